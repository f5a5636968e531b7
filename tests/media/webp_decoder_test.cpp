#include "media/webp_decoder.hpp"

#include <gtest/gtest.h>

#include "fixture_files.hpp"

namespace osprey::media {
namespace {

using osprey::testing::fixture;

const media_limits defaults;

TEST(DecodeWebp, DecodesToTheExactPattern) {
    auto image = decode_webp(fixture("image.webp"), defaults);
    ASSERT_TRUE(image) << image.error().public_message;
    EXPECT_EQ(image->width, 64u);
    EXPECT_EQ(image->height, 48u);
    // The fixture is lossless.
    EXPECT_EQ(image->rgb, osprey::testing::pattern_rgb(64, 48));
}

TEST(DecodeWebp, RefusesTooManyPixelsBeforeDecoding) {
    media_limits small;
    small.max_image_pixels = 100;
    auto image = decode_webp(fixture("image.webp"), small);
    ASSERT_FALSE(image);
    EXPECT_EQ(image.error().code, core::error_code::invalid_value);
    EXPECT_EQ(image.error().public_message, "The image is 64x48 pixels; the limit is 100 pixels.");
}

TEST(DecodeWebp, RefusesOtherFormats) {
    auto image = decode_webp(fixture("image.png"), defaults);
    ASSERT_FALSE(image);
    EXPECT_EQ(image.error().public_message,
              "The image could not be decoded: its bytes are not WebP.");
    EXPECT_FALSE(decode_webp("", defaults));
}

TEST(DecodeWebp, RefusesATruncatedFile) {
    const std::string webp = fixture("image.webp");
    auto image = decode_webp(webp.substr(0, webp.size() - 10), defaults);
    ASSERT_FALSE(image);
    EXPECT_EQ(image.error().public_message,
              "The image could not be decoded: the WebP data is truncated.");
}

// The header is intact, the entropy-coded body is not: libwebp's own error.
TEST(DecodeWebp, RefusesAGarbledBody) {
    std::string webp = fixture("image.webp");
    for (std::size_t i = 30; i < webp.size(); ++i) {
        webp[i] = static_cast<char>(0xff);
    }
    auto image = decode_webp(webp, defaults);
    ASSERT_FALSE(image);
    EXPECT_EQ(image.error().public_message,
              "The image could not be decoded: the WebP data is truncated or garbled.");
}

}  // namespace
}  // namespace osprey::media
