#include "media/video_decoder.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "media/av_handles.hpp"
#include "media/media_error.hpp"
#include "media/video_input.hpp"

namespace osprey::media {

namespace {

constexpr auto video = media_kind::video;

// Decoding is sequential, so a crafted stream of near-empty frames could
// make it long: past this many frames per second of the duration limit
// (a high frame rate for real footage), the video is refused.
constexpr double max_decoded_per_second = 120;

// Frame times closer than this are the same time; container time bases
// rarely round exactly to a sample's time.
constexpr double same_time = 1e-3;

using av::codec_ptr;
using av::error_text;
using av::frame_ptr;
using av::packet_ptr;
using av::scaler_ptr;

core::error out_of_memory() {
    return core::make_error(core::error_code::internal, "The server ran out of memory.");
}

core::expected<codec_ptr> open_decoder(const AVStream& stream, const media_limits& limits) {
    // video_input has checked that the codec is allowed and present.
    const AVCodec* codec = avcodec_find_decoder(stream.codecpar->codec_id);
    codec_ptr context(avcodec_alloc_context3(codec));
    if (!context) {
        return core::unexpected(out_of_memory());
    }
    int r = avcodec_parameters_to_context(context.get(), stream.codecpar);
    if (r >= 0) {
        // One thread: the gate decodes the parts of many requests at once.
        context->thread_count = 1;
        // The decoder refuses a frame larger than this before allocating it,
        // whatever size the container claimed.
        context->max_pixels = std::min<uint64_t>(limits.max_image_pixels, INT64_MAX);
        context->pkt_timebase = stream.time_base;
        r = avcodec_open2(context.get(), codec, nullptr);
    }
    if (r < 0) {
        return core::unexpected(undecodable(video, "its codec parameters are garbled",
                                            "avcodec_open2: " + error_text(r)));
    }
    return context;
}

// Chooses which decoded frames become samples (see decode_video) and keeps
// their RGB copies.
class frame_sampler {
public:
    frame_sampler(const video_info& info, const media_limits& limits)
        : max_frames_(std::max<std::size_t>(1, limits.video_max_frames)) {
        const double fps = limits.video_fps > 0 ? limits.video_fps : 1.0;
        step_ = 1.0 / fps;
        if (info.seconds > 0) {
            end_ = info.seconds;
            if (std::ceil(info.seconds * fps) > static_cast<double>(max_frames_)) {
                step_ = info.seconds / static_cast<double>(max_frames_);
            }
        }
    }

    bool done() const { return frames_.size() >= max_frames_ || target() >= end_ - same_time; }

    // Keeps the frame if it is the first at or after the next sample time.
    core::expected<void> offer(const AVFrame& frame, double seconds) {
        if (done() || seconds + same_time < target()) {
            return {};
        }
        auto image = to_rgb(frame);
        if (!image) {
            return core::unexpected(image.error());
        }
        frames_.push_back(video_frame{std::move(*image), seconds});
        // Every sample time this frame covers is served, once.
        next_ = static_cast<std::size_t>(std::floor((seconds + same_time) / step_)) + 1;
        return {};
    }

    std::vector<video_frame> take() { return std::move(frames_); }

private:
    double target() const { return static_cast<double>(next_) * step_; }
    core::expected<rgb_image> to_rgb(const AVFrame& frame);

    std::size_t max_frames_;
    double step_ = 1;
    double end_ = std::numeric_limits<double>::infinity();
    std::size_t next_ = 0;
    std::vector<video_frame> frames_;
    scaler_ptr scaler_;
};

core::expected<rgb_image> frame_sampler::to_rgb(const AVFrame& frame) {
    const auto format = static_cast<AVPixelFormat>(frame.format);
    scaler_.reset(sws_getCachedContext(scaler_.release(), frame.width, frame.height, format,
                                       frame.width, frame.height, AV_PIX_FMT_RGB24, SWS_BILINEAR,
                                       nullptr, nullptr, nullptr));
    if (!scaler_) {
        return core::unexpected(undecodable(video, "its frames cannot be converted to RGB",
                                            std::string("pix_fmt=") + std::to_string(format)));
    }
    rgb_image out;
    out.width = static_cast<uint32_t>(frame.width);
    out.height = static_cast<uint32_t>(frame.height);
    out.rgb.resize(std::size_t{out.width} * out.height * 3);
    uint8_t* planes[4] = {out.rgb.data(), nullptr, nullptr, nullptr};
    const int strides[4] = {frame.width * 3, 0, 0, 0};
    sws_scale(scaler_.get(), frame.data, frame.linesize, 0, frame.height, planes, strides);
    return out;
}

// One decode of one video: demuxed packets in, sampled frames out.
class video_decoding {
public:
    video_decoding(video_input& input, codec_ptr codec, frame_ptr frame, const media_limits& limits)
        : input_(input),
          codec_(std::move(codec)),
          frame_(std::move(frame)),
          limits_(limits),
          sampler_(input.info(), limits),
          max_decoded_(std::max(1.0, limits.max_video_seconds * max_decoded_per_second)) {}

    core::expected<std::vector<video_frame>> run();

private:
    core::expected<void> send(const AVPacket* packet);
    core::expected<void> receive();
    core::expected<void> take(const AVFrame& frame);
    double seconds_of(const AVFrame& frame);

    video_input& input_;
    codec_ptr codec_;
    frame_ptr frame_;
    const media_limits& limits_;
    frame_sampler sampler_;
    double max_decoded_;
    double decoded_ = 0;
    double last_seconds_ = 0;
};

core::expected<std::vector<video_frame>> video_decoding::run() {
    packet_ptr packet(av_packet_alloc());
    if (!packet) {
        return core::unexpected(out_of_memory());
    }
    while (!sampler_.done()) {
        const int r = av_read_frame(input_.format(), packet.get());
        if (r == AVERROR_EOF) {
            break;
        }
        if (r < 0) {
            return core::unexpected(undecodable(video, "the video data is truncated or garbled",
                                                "av_read_frame: " + error_text(r)));
        }
        auto ok = packet->stream_index == input_.stream()->index ? send(packet.get())
                                                                 : core::expected<void>{};
        av_packet_unref(packet.get());
        if (!ok) {
            return core::unexpected(ok.error());
        }
    }
    // Frames the decoder still holds back (reordering) come out at the end.
    if (auto ok = sampler_.done() ? core::expected<void>{} : send(nullptr); !ok) {
        return core::unexpected(ok.error());
    }
    auto frames = sampler_.take();
    if (frames.empty()) {
        return core::unexpected(undecodable(video, "it has no decodable frame"));
    }
    return frames;
}

core::expected<void> video_decoding::send(const AVPacket* packet) {
    const int r = avcodec_send_packet(codec_.get(), packet);
    if (r < 0 && r != AVERROR_EOF) {
        return core::unexpected(undecodable(video, "its frames are truncated or garbled",
                                            "avcodec_send_packet: " + error_text(r)));
    }
    return receive();
}

core::expected<void> video_decoding::receive() {
    while (!sampler_.done()) {
        const int r = avcodec_receive_frame(codec_.get(), frame_.get());
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) {
            return {};
        }
        if (r < 0) {
            return core::unexpected(undecodable(video, "its frames are truncated or garbled",
                                                "avcodec_receive_frame: " + error_text(r)));
        }
        auto ok = take(*frame_);
        av_frame_unref(frame_.get());
        if (!ok) {
            return ok;
        }
    }
    return {};
}

// The container's checks, again for every frame: a stream may change its
// size midway, and its frames may run past what the header claimed.
core::expected<void> video_decoding::take(const AVFrame& frame) {
    if (++decoded_ > max_decoded_) {
        return core::unexpected(refused(video, "has more frames than this server decodes"));
    }
    video_info shape;
    shape.width = static_cast<uint32_t>(std::max(frame.width, 0));
    shape.height = static_cast<uint32_t>(std::max(frame.height, 0));
    shape.seconds = seconds_of(frame);
    if (auto ok = check_video_limits(shape, limits_); !ok) {
        return ok;
    }
    if (shape.width == 0 || shape.height == 0) {
        return core::unexpected(undecodable(video, "a frame has no size"));
    }
    return sampler_.offer(frame, shape.seconds);
}

// Seconds from the stream's start; a frame without a time keeps the last
// one, so it is never a new sample.
double video_decoding::seconds_of(const AVFrame& frame) {
    const AVStream& s = *input_.stream();
    const int64_t ts =
        frame.best_effort_timestamp != AV_NOPTS_VALUE ? frame.best_effort_timestamp : frame.pts;
    if (ts == AV_NOPTS_VALUE || s.time_base.num <= 0 || s.time_base.den <= 0) {
        return last_seconds_;
    }
    const int64_t origin = s.start_time != AV_NOPTS_VALUE ? s.start_time : 0;
    // In doubles: a crafted timestamp could overflow the difference.
    const double seconds =
        (static_cast<double>(ts) - static_cast<double>(origin)) * av_q2d(s.time_base);
    last_seconds_ = std::max(0.0, seconds);
    return last_seconds_;
}

}  // namespace

core::expected<video_info> probe_video(std::string_view bytes, const media_limits& limits) {
    auto input = video_input::open(bytes, limits);
    if (!input) {
        return core::unexpected(input.error());
    }
    return (*input)->info();
}

core::expected<std::vector<video_frame>> decode_video(std::string_view bytes,
                                                      const media_limits& limits) {
    auto input = video_input::open(bytes, limits);
    if (!input) {
        return core::unexpected(input.error());
    }
    auto codec = open_decoder(*(*input)->stream(), limits);
    if (!codec) {
        return core::unexpected(codec.error());
    }
    frame_ptr frame(av_frame_alloc());
    if (!frame) {
        return core::unexpected(out_of_memory());
    }
    video_decoding decoding(**input, std::move(*codec), std::move(frame), limits);
    return decoding.run();
}

}  // namespace osprey::media
