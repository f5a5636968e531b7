#pragma once

#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "media/av_handles.hpp"

// The libavcodec plumbing that the image and the audio/video fixtures share.
namespace osprey::testing {

// Little-endian, as RIFF, BMP and GIF headers want.
inline void put_le(std::string& out, uint32_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out.push_back(static_cast<char>(value >> (8 * i) & 0xff));
    }
}

// An internal error naming the step, with ffmpeg's reason when there is one.
core::unexpected fixture_error(const std::string& step, int code = 0);

// The 64x48 pattern as one frame in `format`, converted by swscale; `blue`
// as in pattern_rgb.
core::expected<media::av::frame_ptr> pattern_frame(AVPixelFormat format, int blue = -1);

// An encoder for frames of the fixture size, opened with bit-exact output.
core::expected<media::av::codec_ptr> open_video_encoder(AVCodecID id, AVPixelFormat format,
                                                        AVRational time_base, int flags = 0);

// Sends `frame` (nullptr: the end) and appends every packet the encoder
// gives back to `out`.
core::expected<void> encode_into(AVCodecContext* encoder, const AVFrame* frame, std::string& out);

}  // namespace osprey::testing
