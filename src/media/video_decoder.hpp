#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "media/media_limits.hpp"
#include "media/media_type.hpp"
#include "media/webp_decoder.hpp"

namespace osprey::media {

struct video_info {
    media_format format = media_format::unknown;  // mp4, webm or avi
    uint32_t width = 0;
    uint32_t height = 0;
    double seconds = 0;  // 0 when the container does not say
    std::string codec;   // ffmpeg's name for it: "h264", "vp9", ...
};

struct video_frame {
    rgb_image image;
    double seconds = 0;  // the frame's own time from the start of the video
};

// Both functions read the video from memory with libavformat, through a
// custom I/O context over `bytes`: only the demuxer that the magic bytes name
// (MP4/QuickTime, Matroska/WebM or AVI) may open it, every other demuxer and
// every protocol are refused, and a demuxer that asks to open another
// resource (a reference, a playlist entry) is refused too, so no file or
// network address can ever be reached from a video's contents.
//
// Errors, all invalid_value with a message that starts "The video ": another
// container, garbled or truncated bytes, no video stream, a codec outside
// H.264, HEVC, VP8, VP9, AV1, MPEG-4 part 2, MPEG-2 and MJPEG, a frame larger
// than `limits.max_image_pixels`, or longer than `limits.max_video_seconds`.
// Thread-safe; ffmpeg's own log goes to the "media" logger at debug level.

// The container's header alone: the video stream's codec and frame size and
// the duration, checked against the limits. No frame is decoded.
core::expected<video_info> probe_video(std::string_view bytes, const media_limits& limits);

// Samples frames as RGB: one at t = 0, then every 1 / video_fps seconds, at
// most video_max_frames. When that rate would need more frames than that
// over the video's duration, the frames are spread evenly over the whole
// video instead (t = i * duration / video_max_frames), so the model sees all
// of it. Each sample is the first frame at or after its time; a frame is
// returned once even when it serves several times. Decoding stops with an
// error if the frames run past the duration limit, whatever the container
// claimed, or if more than 120 frames per second of that limit were needed.
core::expected<std::vector<video_frame>> decode_video(std::string_view bytes,
                                                      const media_limits& limits);

}  // namespace osprey::media
