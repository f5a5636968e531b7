#include "media/video_input.hpp"

#include <gtest/gtest.h>

#include <random>

extern "C" {
#include <libavformat/avformat.h>
}

#include "fixture_files.hpp"

namespace osprey::media {
namespace {

using osprey::testing::fixture;

const media_limits defaults;

std::string refusal(std::string_view bytes, const media_limits& limits = defaults) {
    auto info = probe_video(bytes, limits);
    EXPECT_FALSE(info) << "accepted " << bytes.size() << " bytes";
    if (info) {
        return {};
    }
    EXPECT_EQ(info.error().code, core::error_code::invalid_value);
    return info.error().public_message;
}

TEST(ProbeVideo, ReadsSizeDurationAndCodecFromTheContainer) {
    struct expected_video {
        const char* file;
        media_format format;
        const char* codec;
    };
    const expected_video videos[] = {
        {"video.mp4", media_format::mp4, "mpeg4"},
        {"video.avi", media_format::avi, "mjpeg"},
        {"video.mkv", media_format::webm, "mpeg4"},
    };
    for (const auto& [file, format, codec] : videos) {
        auto info = probe_video(fixture(file), defaults);
        ASSERT_TRUE(info) << file << ": " << info.error().public_message;
        EXPECT_EQ(info->format, format) << file;
        EXPECT_EQ(info->codec, codec) << file;
        EXPECT_EQ(info->width, 64u) << file;
        EXPECT_EQ(info->height, 48u) << file;
        EXPECT_NEAR(info->seconds, 3.0, 0.01) << file;
    }
}

TEST(ProbeVideo, RefusesALongVideoFromItsHeader) {
    EXPECT_TRUE(refusal(fixture("long.mp4")).starts_with("The video is 700"));
    media_limits short_limit;
    short_limit.max_video_seconds = 2;
    EXPECT_EQ(refusal(fixture("video.mp4"), short_limit),
              "The video is 3 seconds long; the limit is 2 seconds.");
}

TEST(ProbeVideo, RefusesFramesOverThePixelLimit) {
    media_limits small;
    small.max_image_pixels = 1000;
    EXPECT_EQ(refusal(fixture("video.mp4"), small),
              "The video has frames of 64x48 pixels; the limit is 1000 pixels.");
}

TEST(ProbeVideo, RefusesTruncatedAndStreamlessFiles) {
    EXPECT_EQ(refusal(fixture("truncated.mp4")),
              "The video could not be decoded: the container is truncated or garbled.");
    EXPECT_EQ(refusal(fixture("audio_only.mkv")),
              "The video could not be decoded: it has no video stream.");
}

// Containers that name other resources (playlists, concat scripts, session
// descriptions) or that this server does not take: none reaches a demuxer.
TEST(ProbeVideo, RefusesEveryOtherContainer) {
    std::string transport_stream;
    for (int i = 0; i < 20; ++i) {
        transport_stream += '\x47' + std::string("\x40\x00\x10", 3) + std::string(184, '\xff');
    }
    const std::string others[] = {
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://169.254.169.254/x.ts\n",
        "ffconcat version 1.0\nfile 'file:///etc/passwd'\n",
        "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=video 5004 RTP/AVP 96\n",
        transport_stream,
        fixture("image.png"),
        fixture("audio.wav"),
        "",
    };
    for (const auto& bytes : others) {
        EXPECT_EQ(refusal(bytes),
                  "The video could not be decoded: its bytes are not MP4, WebM or AVI.")
            << bytes.substr(0, 20);
    }
}

// What a demuxer asks to open (a QuickTime data reference, a playlist
// entry) goes through the format context's io_open, and that refuses
// everything: no file or network address is reachable from a video.
TEST(VideoInput, RefusesEveryNestedOpen) {
    const std::string mp4 = fixture("video.mp4");
    auto input = video_input::open(mp4, defaults);
    ASSERT_TRUE(input) << input.error().public_message;
    AVFormatContext* format = (*input)->format();
    ASSERT_NE(format->io_open, nullptr);
    for (const char* url : {"file:///etc/passwd", "/etc/passwd", "http://127.0.0.1/",
                            "https://example.com/a.mp4", "pipe:0", "data:,x"}) {
        AVIOContext* pb = nullptr;
        EXPECT_EQ(format->io_open(format, &pb, url, AVIO_FLAG_READ, nullptr), AVERROR(EPERM))
            << url;
        EXPECT_EQ(pb, nullptr) << url;
    }
    EXPECT_STREQ(format->protocol_whitelist, "");
    EXPECT_STREQ(format->format_whitelist, video_input::allowed_demuxers);
    EXPECT_STREQ(format->iformat->name, "mov,mp4,m4a,3gp,3g2,mj2");
}

TEST(VideoInput, SurvivesRandomDamage) {
    std::mt19937 random(11);
    for (const char* file : {"video.mp4", "video.avi", "video.mkv"}) {
        const std::string original = fixture(file);
        for (int round = 0; round < 100; ++round) {
            std::string bytes = original.substr(0, random() % original.size());
            for (int i = 0; i < 4 && bytes.size() > 12; ++i) {
                bytes[12 + random() % (bytes.size() - 12)] = static_cast<char>(random());
            }
            (void)probe_video(bytes, defaults);
        }
    }
    SUCCEED();
}

}  // namespace
}  // namespace osprey::media
