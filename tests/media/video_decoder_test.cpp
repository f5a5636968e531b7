#include "media/video_decoder.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "fixture_files.hpp"

namespace osprey::media {
namespace {

using osprey::testing::fixture;
using osprey::testing::video_frame_blue;

media_limits sampling(double fps, std::size_t max_frames) {
    media_limits limits;
    limits.video_fps = fps;
    limits.video_max_frames = max_frames;
    return limits;
}

// The fixture's frame i is a uniform blue of video_frame_blue(i) (18 apart),
// so the mean blue of a decoded frame says which one it was.
int source_frame(const rgb_image& image) {
    double blue = 0;
    for (std::size_t i = 2; i < image.rgb.size(); i += 3) {
        blue += image.rgb[i];
    }
    blue /= static_cast<double>(image.rgb.size() / 3);
    return static_cast<int>(std::lround((blue - video_frame_blue(0)) / 18.0));
}

// Checks the times of the samples and which source frame each one is.
void expect_samples(const std::string& file, const media_limits& limits,
                    const std::vector<double>& times) {
    auto frames = decode_video(fixture(file), limits);
    ASSERT_TRUE(frames) << file << ": " << frames.error().public_message;
    ASSERT_EQ(frames->size(), times.size()) << file;
    for (std::size_t i = 0; i < times.size(); ++i) {
        const auto& f = (*frames)[i];
        EXPECT_NEAR(f.seconds, times[i], 1e-3) << file << " sample " << i;
        EXPECT_EQ(f.image.width, 64u);
        EXPECT_EQ(f.image.height, 48u);
        ASSERT_EQ(f.image.rgb.size(), 64u * 48 * 3);
        EXPECT_EQ(source_frame(f.image), std::lround(times[i] * osprey::testing::video_fps))
            << file << " sample " << i;
    }
}

TEST(DecodeVideo, SamplesOneFrameASecond) {
    for (const char* file : {"video.mp4", "video.avi", "video.mkv"}) {
        expect_samples(file, sampling(1, 16), {0, 1, 2});
    }
}

TEST(DecodeVideo, SamplesTwoFramesASecond) {
    expect_samples("video.mp4", sampling(2, 16), {0, 0.5, 1, 1.5, 2, 2.5});
}

// Six samples at 2 fps do not fit in four: they spread over all 3 seconds.
TEST(DecodeVideo, SpreadsSamplesEvenlyWhenCapped) {
    expect_samples("video.mp4", sampling(2, 4), {0, 0.75, 1.5, 2.25});
    expect_samples("video.mp4", sampling(1, 1), {0});
}

// Sampling faster than the video's own rate returns each frame once.
TEST(DecodeVideo, ReturnsEachFrameOnce) {
    std::vector<double> every;
    for (int i = 0; i < osprey::testing::video_frames; ++i) {
        every.push_back(i / 4.0);
    }
    expect_samples("video.mp4", sampling(10, 100), every);
}

TEST(DecodeVideo, KeepsThePattern) {
    auto frames = decode_video(fixture("video.mp4"), sampling(1, 1));
    ASSERT_TRUE(frames) << frames.error().public_message;
    const auto& rgb = frames->front().image.rgb;
    for (const auto& [x, y] : {std::pair{5, 5}, std::pair{40, 10}, std::pair{60, 40}}) {
        const auto expected = osprey::testing::pattern_pixel(x, y);
        const std::size_t at = (static_cast<std::size_t>(y) * 64 + x) * 3;
        EXPECT_NEAR(rgb[at], expected.r, 12) << x << "," << y;
        EXPECT_NEAR(rgb[at + 1], expected.g, 12) << x << "," << y;
    }
}

TEST(DecodeVideo, RefusesBeforeDecodingWhatTheHeaderRefuses) {
    auto long_video = decode_video(fixture("long.mp4"), media_limits{});
    ASSERT_FALSE(long_video);
    EXPECT_TRUE(long_video.error().public_message.starts_with("The video is 700"));
    auto cut = decode_video(fixture("truncated.mp4"), media_limits{});
    ASSERT_FALSE(cut);
    EXPECT_EQ(cut.error().code, core::error_code::invalid_value);
    EXPECT_FALSE(decode_video(fixture("image.png"), media_limits{}));
}

// Zeroes every duration field of an MP4 (mvhd, tkhd, mdhd; version 0
// boxes), as a recorder that never finalised its file might leave them.
std::string hide_duration(std::string mp4) {
    for (const auto& [box, offset] :
         {std::pair{"mvhd", 20}, std::pair{"tkhd", 24}, std::pair{"mdhd", 20}}) {
        const auto at = mp4.find(box);
        EXPECT_NE(at, std::string::npos) << box;
        mp4.replace(at + offset, 4, std::string(4, '\0'));
    }
    return mp4;
}

// A container that does not state its length does not get past the limit:
// the frames' own times are checked as they are decoded.
TEST(DecodeVideo, StopsWhenFramesRunPastTheLimit) {
    const std::string unknown = hide_duration(fixture("long.mp4"));
    auto info = probe_video(unknown, media_limits{});
    ASSERT_TRUE(info) << info.error().public_message;
    ASSERT_EQ(info->seconds, 0);
    auto frames = decode_video(unknown, sampling(1, 16));
    ASSERT_FALSE(frames);
    EXPECT_EQ(frames.error().public_message,
              "The video is 700 seconds long; the limit is 600 seconds.");
}

// A container may understate the frame size too: the decoder is held to
// the pixel limit itself, before it allocates a frame.
TEST(DecodeVideo, RefusesFramesLargerThanTheContainerSays) {
    std::string mkv = fixture("video.mkv");
    // Matroska's PixelWidth (0xb0) and PixelHeight (0xba), one byte each.
    for (const auto& [element, claimed] : {std::pair{std::string("\xb0\x81\x40"), '\x08'},
                                           std::pair{std::string("\xba\x81\x30"), '\x08'}}) {
        const auto at = mkv.find(element);
        ASSERT_NE(at, std::string::npos);
        mkv[at + 2] = claimed;
    }
    media_limits limits = sampling(1, 16);
    limits.max_image_pixels = 100;
    auto info = probe_video(mkv, limits);
    ASSERT_TRUE(info) << info.error().public_message;
    EXPECT_EQ(info->width, 8u);
    auto frames = decode_video(mkv, limits);
    ASSERT_FALSE(frames);
    EXPECT_EQ(frames.error().code, core::error_code::invalid_value);
}

TEST(DecodeVideo, SurvivesRandomDamage) {
    std::mt19937 random(5);
    for (const char* file : {"video.mp4", "video.avi", "video.mkv"}) {
        const std::string original = fixture(file);
        for (int round = 0; round < 60; ++round) {
            std::string bytes = original;
            for (int i = 0; i < 6; ++i) {
                bytes[12 + random() % (bytes.size() - 12)] = static_cast<char>(random());
            }
            (void)decode_video(bytes, sampling(4, 16));
        }
    }
    SUCCEED();
}

}  // namespace
}  // namespace osprey::media
