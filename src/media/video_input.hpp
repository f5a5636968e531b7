#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "core/error.hpp"
#include "media/media_limits.hpp"
#include "media/video_decoder.hpp"

extern "C" {
struct AVFormatContext;
struct AVIOContext;
struct AVStream;
}

namespace osprey::media {

// One video opened from memory by libavformat, for probe_video and
// decode_video (see video_decoder.hpp for the policy). Owns the format and
// I/O contexts and frees them on every path; the bytes must outlive it.
// Not movable: libavformat's read and seek callbacks hold its address.
class video_input {
public:
    // Opens `bytes` and finds its video stream, checked against `limits`.
    // Errors: see video_decoder.hpp.
    static core::expected<std::unique_ptr<video_input>> open(std::string_view bytes,
                                                             const media_limits& limits);

    ~video_input();
    video_input(const video_input&) = delete;
    video_input& operator=(const video_input&) = delete;

    AVFormatContext* format() const { return format_; }
    AVStream* stream() const { return stream_; }
    const video_info& info() const { return info_; }

    // The demuxers that may ever open a video, in libavformat's notation.
    static constexpr const char* allowed_demuxers = "mov,matroska,webm,avi";

private:
    explicit video_input(std::string_view bytes) : bytes_(bytes) {}
    core::expected<void> open_format(media_format f);
    core::expected<void> find_stream(const media_limits& limits);

    static int read(void* self, uint8_t* buffer, int size);
    static int64_t seek(void* self, int64_t offset, int whence);

    std::string_view bytes_;
    uint64_t position_ = 0;
    AVIOContext* io_ = nullptr;
    AVFormatContext* format_ = nullptr;
    AVStream* stream_ = nullptr;
    video_info info_;
};

// A video's frame size and duration against the limits. Errors: see
// video_decoder.hpp.
core::expected<void> check_video_limits(const video_info& info, const media_limits& limits);

// Sends ffmpeg's log to the "media" logger at debug level, once per process.
void route_ffmpeg_log();

}  // namespace osprey::media
