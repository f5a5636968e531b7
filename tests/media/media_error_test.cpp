#include "media/media_error.hpp"

#include <gtest/gtest.h>

namespace osprey::media {
namespace {

TEST(MediaError, SaysWhatIsWrongWithTheContent) {
    auto e = undecodable(media_kind::audio, "the WAV header is garbled", "offset=12");
    EXPECT_EQ(e.code, core::error_code::invalid_value);
    EXPECT_EQ(e.public_message, "The audio could not be decoded: the WAV header is garbled.");
    EXPECT_EQ(e.internal_detail, "offset=12");

    auto r = refused(media_kind::video, "is 700 seconds long; the limit is 600 seconds");
    EXPECT_EQ(r.code, core::error_code::invalid_value);
    EXPECT_EQ(r.public_message, "The video is 700 seconds long; the limit is 600 seconds.");
}

TEST(MediaError, LocatesThePartInTheMessageAndParam) {
    const std::string param = "messages[0].content[1].image_url.url";
    auto e = locate(refused(media_kind::image, "is 9x9 pixels; the limit is 8 pixels"),
                    media_kind::image, param);
    EXPECT_EQ(e.public_message,
              "The image at messages[0].content[1] is 9x9 pixels; the limit is 8 pixels.");
    EXPECT_EQ(e.param, param);

    auto bare = locate(undecodable(media_kind::audio, "x"), media_kind::audio, "input");
    EXPECT_EQ(bare.public_message, "The audio at input could not be decoded: x.");

    auto nowhere = locate(undecodable(media_kind::audio, "x"), media_kind::audio, "");
    EXPECT_EQ(nowhere.public_message, "The audio could not be decoded: x.");
}

// A message that is not about this kind (an internal error) is left alone.
TEST(MediaError, LeavesOtherMessagesAlone) {
    auto other = core::make_error(core::error_code::internal, "The server ran out of memory.");
    auto e = locate(other, media_kind::video, "messages[2].content[0].video_url.url");
    EXPECT_EQ(e.public_message, "The server ran out of memory.");
    EXPECT_EQ(e.param, "messages[2].content[0].video_url.url");
}

TEST(MediaError, WritesSecondsShort) {
    EXPECT_EQ(seconds_text(600), "600");
    EXPECT_EQ(seconds_text(0.5), "0.5");
    EXPECT_EQ(seconds_text(134217.72), "134217.7");
    EXPECT_EQ(seconds_text(1e300).substr(0, 2), "10");
}

}  // namespace
}  // namespace osprey::media
