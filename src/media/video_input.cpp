#include "media/video_input.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <mutex>
#include <string>

#include "core/log.hpp"
#include "media/av_handles.hpp"
#include "media/media_error.hpp"

namespace osprey::media {

namespace {

constexpr auto video = media_kind::video;
constexpr int io_buffer_bytes = 64 * 1024;

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto l = core::log::get("media");
    return l;
}

core::error out_of_memory() {
    return core::make_error(core::error_code::internal, "The server ran out of memory.");
}

// Every nested open a demuxer may attempt (an external data reference in a
// QuickTime file, a segment of a playlist) goes through this hook, so no
// protocol, file or network address is ever reached from a video's bytes,
// whatever the protocol whitelist would have allowed.
int refuse_io_open(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) {
    return AVERROR(EPERM);
}

// The one demuxer each sniffed container may use; libavformat's own probing,
// which would try every demuxer it has on the bytes, never runs.
const AVInputFormat* demuxer_for(media_format f) {
    switch (f) {
    case media_format::mp4: return av_find_input_format("mov");
    case media_format::webm: return av_find_input_format("matroska");
    case media_format::avi: return av_find_input_format("avi");
    default: return nullptr;
    }
}

// The codecs worth their attack surface: what cameras, browsers and phones
// write, plus MJPEG and MPEG-4 part 2 for older AVI files.
bool allowed_codec(AVCodecID id) {
    switch (id) {
    case AV_CODEC_ID_H264:
    case AV_CODEC_ID_HEVC:
    case AV_CODEC_ID_VP8:
    case AV_CODEC_ID_VP9:
    case AV_CODEC_ID_AV1:
    case AV_CODEC_ID_MPEG4:
    case AV_CODEC_ID_MPEG2VIDEO:
    case AV_CODEC_ID_MJPEG: return true;
    default: return false;
    }
}

// The longer of the container's and the stream's own duration, 0 when
// neither is known: a live WebM recording often has none.
double duration_seconds(const AVFormatContext* f, const AVStream* s) {
    double seconds = 0;
    if (f->duration != AV_NOPTS_VALUE && f->duration > 0) {
        seconds = static_cast<double>(f->duration) / AV_TIME_BASE;
    }
    if (s->duration != AV_NOPTS_VALUE && s->duration > 0 && s->time_base.num > 0 &&
        s->time_base.den > 0) {
        seconds = std::max(seconds, static_cast<double>(s->duration) * av_q2d(s->time_base));
    }
    return seconds;
}

// Some containers leave the frame size to the codec's own headers (MP4 does
// for MPEG-4 part 2, whose size is in the VOL header it keeps as extradata).
// The codec's parser reads it from there: headers only, no frame decoded.
void size_from_codec_headers(AVCodecParameters& p) {
    av::parser_ptr parser(av_parser_init(p.codec_id));
    av::codec_ptr context(avcodec_alloc_context3(nullptr));
    if (!parser || !context || p.extradata_size <= 0 ||
        avcodec_parameters_to_context(context.get(), &p) < 0) {
        return;
    }
    uint8_t* out = nullptr;
    int out_size = 0;
    // The headers, then an empty call that makes the parser finish them.
    av_parser_parse2(parser.get(), context.get(), &out, &out_size, p.extradata, p.extradata_size,
                     AV_NOPTS_VALUE, AV_NOPTS_VALUE, 0);
    av_parser_parse2(parser.get(), context.get(), &out, &out_size, nullptr, 0, AV_NOPTS_VALUE,
                     AV_NOPTS_VALUE, 0);
    p.width = context->width;
    p.height = context->height;
}

// Warnings and errors only: a corrupt file can make a decoder chatty.
void log_line(void* context, int level, const char* format, va_list args) {
    if (level > AV_LOG_WARNING || !logger()->should_log(spdlog::level::debug)) {
        return;
    }
    char line[512];
    int print_prefix = 1;
    av_log_format_line2(context, level, format, args, line, sizeof line, &print_prefix);
    std::string_view text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    core::log::debug(*logger(), "media.ffmpeg", {{"level", level}, {"line", text}});
}

}  // namespace

void route_ffmpeg_log() {
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_callback(log_line); });
}

core::expected<std::unique_ptr<video_input>> video_input::open(std::string_view bytes,
                                                               const media_limits& limits) {
    route_ffmpeg_log();
    const media_format f = sniff_format(bytes);
    std::unique_ptr<video_input> input(new video_input(bytes));
    if (auto ok = input->open_format(f); !ok) {
        return core::unexpected(ok.error());
    }
    if (auto ok = input->find_stream(limits); !ok) {
        return core::unexpected(ok.error());
    }
    input->info_.format = f;
    return input;
}

video_input::~video_input() {
    // Closing the format context leaves a custom I/O context alone.
    avformat_close_input(&format_);
    if (io_ != nullptr) {
        av_freep(&io_->buffer);
        avio_context_free(&io_);
    }
}

core::expected<void> video_input::open_format(media_format f) {
    const AVInputFormat* demuxer = demuxer_for(f);
    if (demuxer == nullptr) {
        return core::unexpected(undecodable(video, "its bytes are not MP4, WebM or AVI",
                                            std::string("format=") + name(f)));
    }
    auto* buffer = static_cast<unsigned char*>(av_malloc(io_buffer_bytes));
    io_ = buffer ? avio_alloc_context(buffer, io_buffer_bytes, 0, this, &read, nullptr, &seek)
                 : nullptr;
    if (io_ == nullptr) {
        av_free(buffer);
        return core::unexpected(out_of_memory());
    }
    format_ = avformat_alloc_context();
    if (format_ == nullptr) {
        return core::unexpected(out_of_memory());
    }
    format_->pb = io_;
    format_->flags |= AVFMT_FLAG_CUSTOM_IO;
    format_->io_open = refuse_io_open;
    format_->format_whitelist = av_strdup(allowed_demuxers);
    format_->protocol_whitelist = av_strdup("");

    // On failure avformat_open_input frees the format context and nulls it.
    if (const int r = avformat_open_input(&format_, nullptr, demuxer, nullptr); r < 0) {
        return core::unexpected(undecodable(video, "the container is truncated or garbled",
                                            "avformat_open_input: " + av::error_text(r)));
    }
    return {};
}

core::expected<void> video_input::find_stream(const media_limits& limits) {
    // The first video stream that is not a cover picture; the demuxer drops
    // the packets of every other stream.
    for (unsigned i = 0; i < format_->nb_streams; ++i) {
        AVStream* s = format_->streams[i];
        const bool picture = (s->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0;
        if (stream_ == nullptr && s->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !picture) {
            stream_ = s;
        } else {
            s->discard = AVDISCARD_ALL;
        }
    }
    if (stream_ == nullptr) {
        return core::unexpected(undecodable(video, "it has no video stream"));
    }
    AVCodecParameters* p = stream_->codecpar;
    info_.codec = avcodec_get_name(p->codec_id);
    if (!allowed_codec(p->codec_id) || avcodec_find_decoder(p->codec_id) == nullptr) {
        return core::unexpected(refused(
            video, "uses the " + info_.codec + " codec, which this server does not decode"));
    }
    if (p->width <= 0 || p->height <= 0) {
        size_from_codec_headers(*p);
    }
    if (p->width <= 0 || p->height <= 0) {
        return core::unexpected(undecodable(video, "its header gives no frame size"));
    }
    info_.width = static_cast<uint32_t>(p->width);
    info_.height = static_cast<uint32_t>(p->height);
    info_.seconds = duration_seconds(format_, stream_);
    return check_video_limits(info_, limits);
}

core::expected<void> check_video_limits(const video_info& info, const media_limits& limits) {
    const uint64_t pixels = uint64_t{info.width} * info.height;
    if (pixels > limits.max_image_pixels) {
        return core::unexpected(
            refused(video, "has frames of " + std::to_string(info.width) + "x" +
                               std::to_string(info.height) + " pixels; the limit is " +
                               std::to_string(limits.max_image_pixels) + " pixels"));
    }
    if (info.seconds > limits.max_video_seconds) {
        return core::unexpected(
            refused(video, "is " + seconds_text(info.seconds) + " seconds long; the limit is " +
                               seconds_text(limits.max_video_seconds) + " seconds"));
    }
    return {};
}

int video_input::read(void* opaque, uint8_t* buffer, int size) {
    auto* self = static_cast<video_input*>(opaque);
    const uint64_t left = self->bytes_.size() - self->position_;
    if (left == 0 || size <= 0) {
        return AVERROR_EOF;
    }
    const auto n = std::min<uint64_t>(left, static_cast<uint64_t>(size));
    std::memcpy(buffer, self->bytes_.data() + self->position_, n);
    self->position_ += n;
    return static_cast<int>(n);
}

// Positions stay inside the bytes: there is nothing past their end to read.
int64_t video_input::seek(void* opaque, int64_t offset, int whence) {
    auto* self = static_cast<video_input*>(opaque);
    const auto size = static_cast<int64_t>(self->bytes_.size());
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE) {
        return size;
    }
    const int64_t base = whence == SEEK_SET   ? 0
                         : whence == SEEK_CUR ? static_cast<int64_t>(self->position_)
                         : whence == SEEK_END ? size
                                              : -1;
    if (base < 0 || offset < -base || offset > size - base) {
        return AVERROR(EINVAL);
    }
    self->position_ = static_cast<uint64_t>(base + offset);
    return base + offset;
}

}  // namespace osprey::media
