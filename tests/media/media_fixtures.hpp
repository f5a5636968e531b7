#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"

// Media fixtures, encoded with Debian's own libraries (libavcodec,
// libavformat, libwebp) or written byte by byte, the same on every run for a
// given set of library versions. Shared by the unit tests here and, through
// osprey-make-media-fixtures, by the end-to-end tests.
namespace osprey::testing {

// Every image fixture is this size, with pattern_pixel's pattern.
inline constexpr int fixture_width = 64;
inline constexpr int fixture_height = 48;

// Video fixtures: 12 frames at 4 frames per second (3 seconds), frame i a
// uniform blue of video_frame_blue(i) over the same red/green pattern.
inline constexpr int video_fps = 4;
inline constexpr int video_frames = 12;

// R = 4x, G = 5y, B = 128: smooth enough for lossy codecs to keep.
struct pixel {
    uint8_t r, g, b;
};
pixel pattern_pixel(int x, int y);
int video_frame_blue(int frame);

// Packed RGB24 of the pattern; `blue` < 0 keeps the pattern's own blue.
std::vector<uint8_t> pattern_rgb(int width, int height, int blue = -1);

// Byte-built files for tests that need variations.
std::string make_bmp(int width, int height, bool top_down);
std::string make_png_header(uint32_t width, uint32_t height);  // signature, IHDR, tiny IDAT, IEND
std::string make_wav(double seconds, uint32_t rate, uint32_t declared_data_bytes = 0);

// Writes every fixture below into `dir`, creating it. Errors: internal, with
// the failing step and ffmpeg's reason in the public message (it is a tool).
//
//   image.png image.jpg image.gif image.bmp image.webp   64x48 pattern
//   audio.wav     1 s, 16 kHz mono 16-bit sine
//   audio.mp3     2 s, 16 kHz mono (LAME), with an ID3v2 tag and an Info frame
//   audio.flac    1 s, 16 kHz mono
//   video.mp4     MPEG-4 part 2 in MP4, 64x48, 4 fps, 3 s
//   video.avi     MJPEG in AVI, the same frames
//   video.mkv     MPEG-4 part 2 in Matroska, the same frames
//   audio_only.mkv  FLAC in Matroska: a "video" without a video stream
//   long.mp4      two frames, at 0 s and 700 s (over the 600 s default)
//   long.wav      a header claiming about 37 hours over 1 s of samples
//   truncated.png the first half of image.png
//   truncated.mp4 the first half of video.mp4 (its index is at the end)
//   mismatched.mp3  image.png's bytes
//   bomb.png      a valid header claiming 100000x100000, a tiny body
//   bomb.gif      a header claiming 65535x65535 and one 1x1 frame
//   bomb.jpg      a frame header claiming 65535x65535, a tiny scan
core::expected<void> write_media_fixtures(const std::filesystem::path& dir);

// The names above, for tests that walk them all.
const std::vector<std::string>& media_fixture_names();

// Split between the two source files; write_media_fixtures calls both.
core::expected<void> write_image_fixtures(const std::filesystem::path& dir);
core::expected<void> write_av_fixtures(const std::filesystem::path& dir);

core::expected<void> write_file(const std::filesystem::path& path, const std::string& bytes);
core::expected<std::string> read_file(const std::filesystem::path& path);

}  // namespace osprey::testing
