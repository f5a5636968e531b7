#include "media_fixtures.hpp"

#include <cmath>
#include <fstream>
#include <iterator>

#include "fixture_encoding.hpp"

namespace osprey::testing {

pixel pattern_pixel(int x, int y) {
    return {static_cast<uint8_t>(x * 4), static_cast<uint8_t>(y * 5), 128};
}

int video_frame_blue(int frame) {
    return 16 + frame * 18;
}

std::vector<uint8_t> pattern_rgb(int width, int height, int blue) {
    std::vector<uint8_t> rgb;
    rgb.reserve(static_cast<std::size_t>(width) * height * 3);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const pixel p = pattern_pixel(x, y);
            rgb.push_back(p.r);
            rgb.push_back(p.g);
            rgb.push_back(blue < 0 ? p.b : static_cast<uint8_t>(blue));
        }
    }
    return rgb;
}

core::unexpected fixture_error(const std::string& step, int code) {
    std::string message = "media fixtures: " + step;
    if (code != 0) {
        message += ": " + media::av::error_text(code);
    }
    return core::unexpected(core::make_error(core::error_code::internal, message));
}

core::expected<media::av::frame_ptr> pattern_frame(AVPixelFormat format, int blue) {
    media::av::frame_ptr frame(av_frame_alloc());
    if (!frame) {
        return fixture_error("av_frame_alloc");
    }
    frame->format = format;
    frame->width = fixture_width;
    frame->height = fixture_height;
    if (const int r = av_frame_get_buffer(frame.get(), 0); r < 0) {
        return fixture_error("av_frame_get_buffer", r);
    }
    media::av::scaler_ptr scaler(sws_getContext(
        fixture_width, fixture_height, AV_PIX_FMT_RGB24, fixture_width, fixture_height, format,
        SWS_BILINEAR | SWS_ACCURATE_RND | SWS_BITEXACT, nullptr, nullptr, nullptr));
    if (!scaler) {
        return fixture_error("sws_getContext");
    }
    const auto rgb = pattern_rgb(fixture_width, fixture_height, blue);
    const uint8_t* planes[4] = {rgb.data(), nullptr, nullptr, nullptr};
    const int strides[4] = {fixture_width * 3, 0, 0, 0};
    sws_scale(scaler.get(), planes, strides, 0, fixture_height, frame->data, frame->linesize);
    return frame;
}

core::expected<media::av::codec_ptr> open_video_encoder(AVCodecID id, AVPixelFormat format,
                                                        AVRational time_base, int flags) {
    const AVCodec* codec = avcodec_find_encoder(id);
    media::av::codec_ptr c(codec ? avcodec_alloc_context3(codec) : nullptr);
    if (!c) {
        return fixture_error(std::string("no encoder for ") + avcodec_get_name(id));
    }
    c->width = fixture_width;
    c->height = fixture_height;
    c->pix_fmt = format;
    c->time_base = time_base;
    c->max_b_frames = 0;
    // A fixed quantiser: the same bytes every run, and close to the pattern.
    c->flags |= AV_CODEC_FLAG_BITEXACT | AV_CODEC_FLAG_QSCALE | flags;
    c->global_quality = FF_QP2LAMBDA * 2;
    if (const int r = avcodec_open2(c.get(), codec, nullptr); r < 0) {
        return fixture_error(std::string("avcodec_open2 ") + codec->name, r);
    }
    return c;
}

core::expected<void> encode_into(AVCodecContext* encoder, const AVFrame* frame, std::string& out) {
    if (const int r = avcodec_send_frame(encoder, frame); r < 0) {
        return fixture_error("avcodec_send_frame", r);
    }
    media::av::packet_ptr packet(av_packet_alloc());
    while (avcodec_receive_packet(encoder, packet.get()) == 0) {
        out.append(reinterpret_cast<const char*>(packet->data), packet->size);
        av_packet_unref(packet.get());
    }
    return {};
}

core::expected<void> write_file(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        return fixture_error("cannot write " + path.string());
    }
    return {};
}

core::expected<std::string> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) {
        return fixture_error("cannot read " + path.string());
    }
    return bytes;
}

const std::vector<std::string>& media_fixture_names() {
    static const std::vector<std::string> names = {
        "image.png",     "image.jpg",      "image.gif",  "image.bmp", "image.webp",
        "audio.wav",     "audio.mp3",      "audio.flac", "video.mp4", "video.avi",
        "video.mkv",     "audio_only.mkv", "long.mp4",   "long.wav",  "truncated.png",
        "truncated.mp4", "mismatched.mp3", "bomb.png",   "bomb.gif",  "bomb.jpg"};
    return names;
}

core::expected<void> write_media_fixtures(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        return fixture_error("cannot create " + dir.string() + ": " + ec.message());
    }
    if (auto ok = write_image_fixtures(dir); !ok) {
        return ok;
    }
    return write_av_fixtures(dir);
}

}  // namespace osprey::testing
