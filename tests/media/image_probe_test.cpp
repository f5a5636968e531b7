#include "media/image_probe.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include <zlib.h>

#include "fixture_files.hpp"
#include "guarded_bytes.hpp"

namespace osprey::media {
namespace {

using osprey::testing::fixture;

const media_limits defaults;

struct good_image {
    const char* file;
    media_format format;
};

const good_image good_images[] = {
    {"image.png", media_format::png},   {"image.jpg", media_format::jpeg},
    {"image.gif", media_format::gif},   {"image.bmp", media_format::bmp},
    {"image.webp", media_format::webp},
};

std::string refusal(std::string_view bytes, const media_limits& limits = defaults) {
    auto info = probe_image(bytes, limits);
    EXPECT_FALSE(info) << "accepted " << bytes.size() << " bytes";
    if (info) {
        return {};
    }
    EXPECT_EQ(info.error().code, core::error_code::invalid_value);
    return info.error().public_message;
}

TEST(ProbeImage, ReadsTheSizeOfEveryFormat) {
    for (const auto& [file, format] : good_images) {
        auto info = probe_image(fixture(file), defaults);
        ASSERT_TRUE(info) << file << ": " << info.error().public_message;
        EXPECT_EQ(info->format, format) << file;
        EXPECT_EQ(info->width, 64u) << file;
        EXPECT_EQ(info->height, 48u) << file;
    }
}

TEST(ProbeImage, TopDownBmpHasAPositiveHeight) {
    auto info = probe_image(osprey::testing::make_bmp(5, 3, true), defaults);
    ASSERT_TRUE(info) << info.error().public_message;
    EXPECT_EQ(info->width, 5u);
    EXPECT_EQ(info->height, 3u);
}

// A 65-byte file that claims ten billion pixels: refused from its header,
// without the 30 GB a decoder would ask for.
TEST(ProbeImage, RefusesDecompressionBombsFromTheHeader) {
    EXPECT_EQ(refusal(fixture("bomb.png")),
              "The image is 100000x100000 pixels; the limit is 50000000 pixels.");
    EXPECT_EQ(refusal(fixture("bomb.gif")),
              "The image is 65535x65535 pixels; the limit is 50000000 pixels.");
    EXPECT_EQ(refusal(fixture("bomb.jpg")),
              "The image is 65535x65535 pixels; the limit is 50000000 pixels.");
}

TEST(ProbeImage, TheLimitIsTheOptionsOwn) {
    media_limits exact;
    exact.max_image_pixels = 64 * 48;
    EXPECT_TRUE(probe_image(fixture("image.png"), exact));
    exact.max_image_pixels = 64 * 48 - 1;
    EXPECT_EQ(refusal(fixture("image.png"), exact),
              "The image is 64x48 pixels; the limit is 3071 pixels.");
}

TEST(ProbeImage, RefusesATruncatedPng) {
    EXPECT_EQ(refusal(fixture("truncated.png")),
              "The image could not be decoded: the PNG data is truncated or garbled.");
}

// Whatever the cut, a file missing its end is refused; only a GIF without
// its one-byte trailer is complete enough to take.
TEST(ProbeImage, RefusesEveryPrefixOfEveryImage) {
    for (const auto& [file, format] : good_images) {
        const std::string bytes = fixture(file);
        const std::size_t whole_without_trailer = format == media_format::gif ? 1 : 0;
        for (std::size_t cut = 0; cut + 1 + whole_without_trailer <= bytes.size(); ++cut) {
            EXPECT_FALSE(probe_image(std::string_view(bytes).substr(0, cut), defaults))
                << file << " cut at " << cut;
        }
    }
}

TEST(ProbeImage, RefusesZeroSizes) {
    EXPECT_EQ(refusal(osprey::testing::make_png_header(0, 10)),
              "The image could not be decoded: the PNG header gives an impossible size.");
    EXPECT_FALSE(probe_image(osprey::testing::make_bmp(0, 3, false), defaults));
}

TEST(ProbeImage, RefusesWhatIsNotAnImage) {
    const char* expected =
        "The image could not be decoded: its bytes are not PNG, JPEG, GIF, BMP or WebP.";
    EXPECT_EQ(refusal("hello, world"), expected);
    EXPECT_EQ(refusal(""), expected);
    EXPECT_EQ(refusal(fixture("audio.wav")), expected);
}

TEST(ProbeImage, RefusesCodingsTheDecodersLack) {
    std::string jpeg = fixture("image.jpg");
    const auto sof = jpeg.find("\xff\xc0");
    ASSERT_NE(sof, std::string::npos);
    jpeg[sof + 1] = '\xc9';  // arithmetic coding
    EXPECT_EQ(refusal(jpeg),
              "The image uses a JPEG coding (lossless, arithmetic or hierarchical) that this "
              "server does not decode.");

    std::string bmp = fixture("image.bmp");
    bmp[30] = 1;  // RLE8
    EXPECT_EQ(refusal(bmp), "The image uses a BMP compression that this server does not decode.");
}

TEST(ProbeImage, RefusesAPngWithAnImpossibleBitDepth) {
    std::string png = fixture("image.png");
    png[24] = 3;  // RGB at 3 bits
    EXPECT_EQ(refusal(png),
              "The image could not be decoded: the PNG header is truncated or garbled.");
}

// A PNG of `width` x `height` RGB (or interlaced), whose image data is
// `raw` deflated: a whole file, CRCs included.
std::string png_file(uint32_t width, uint32_t height, const std::string& raw,
                     bool interlaced = false) {
    auto be = [](uint32_t v) {
        return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                           static_cast<char>(v >> 8), static_cast<char>(v)};
    };
    auto chunk = [&](const std::string& type, const std::string& data) {
        const std::string body = type + data;
        const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size());
        return be(data.size()) + body + be(static_cast<uint32_t>(crc));
    };
    std::string deflated(compressBound(raw.size()), '\0');
    uLongf size = deflated.size();
    compress(reinterpret_cast<Bytef*>(deflated.data()), &size,
             reinterpret_cast<const Bytef*>(raw.data()), raw.size());
    deflated.resize(size);
    const std::string ihdr = be(width) + be(height) + std::string("\x08\x02\x00\x00", 4) +
                             std::string(1, interlaced ? '\x01' : '\x00');
    return "\x89PNG\r\n\x1a\n" + chunk("IHDR", ihdr) + chunk("IDAT", deflated) + chunk("IEND", "");
}

// Regression: a 2 MB PNG with a 1x1 header whose data inflated to 2 GB
// passed, and the decoder inflated all of it.
TEST(ProbeImage, RefusesImageDataThatInflatesPastItsPixels) {
    const std::string message =
        "The image could not be decoded: the PNG's compressed data does not hold exactly its "
        "pixels.";
    EXPECT_EQ(refusal(png_file(1, 1, std::string(64 << 20, '\0'))), message);
    EXPECT_EQ(refusal(png_file(4, 4, std::string(4 * 13 - 1, '\0'))), message);
    auto exact = probe_image(png_file(4, 4, std::string(4 * 13, '\0')), defaults);
    ASSERT_TRUE(exact) << exact.error().public_message;
    EXPECT_EQ(exact->width, 4u);
}

// Regression (found by the image_probe fuzzer): a chunk after IEND that
// claimed to be image data of 2 GB was fed to zlib as it stood, while the
// stream was still open, and zlib read past the end of the upload. The
// upload here ends at an unreadable page, so such a read faults.
TEST(ProbeImage, ReadsNoImageDataAfterTheEndChunk) {
    const std::string whole = png_file(4, 4, std::string(4 * 13, '\0'));
    const size_t idat = whole.find("IDAT");
    const size_t iend = whole.find("IEND");
    ASSERT_NE(idat, std::string::npos);
    ASSERT_NE(iend, std::string::npos);
    // The same file with the image data's first four bytes in its IDAT, so
    // the stream is unfinished at IEND; after IEND, a 2 GB IDAT header and
    // the rest of the stream less its checksum, which zlib would read on for.
    const uint8_t* at = reinterpret_cast<const uint8_t*>(whole.data() + idat - 4);
    const size_t length = size_t{at[0]} << 24 | size_t{at[1]} << 16 | size_t{at[2]} << 8 | at[3];
    const std::string stream = whole.substr(idat + 4, length);
    std::string file = whole.substr(0, idat - 4);
    file += std::string("\0\0\0\x04IDAT", 8) + stream.substr(0, 4) + "CRC!";
    file += whole.substr(iend - 4);
    file += std::string("\x7f\xff\xff\xffIDAT", 8) + stream.substr(4, stream.size() - 8);
    const fuzz::guarded_bytes guarded(file);
    EXPECT_EQ(refusal(guarded.view()),
              "The image could not be decoded: the PNG's compressed data does not hold exactly "
              "its pixels.");
}

// Adam7 stores seven passes, each row with its own filter byte: for 5x3 RGB,
// passes 1, 2 and 4 hold one pixel each, pass 3 nothing (it starts at row 4),
// pass 5 a row of 3, pass 6 two rows of 2, pass 7 a row of 5.
TEST(ProbeImage, CountsTheBytesOfAnInterlacedPng) {
    const size_t raw = 3 * (1 + 3) + (1 + 9) + 2 * (1 + 6) + (1 + 15);
    EXPECT_TRUE(probe_image(png_file(5, 3, std::string(raw, '\0'), true), defaults));
    EXPECT_FALSE(probe_image(png_file(5, 3, std::string(raw + 1, '\0'), true), defaults));
}

// Regression: ten thousand near-empty progressive scans in 760 KB took the
// decoder 47 s of CPU.
TEST(ProbeImage, RefusesAJpegWithTooManyScans) {
    const std::string jpeg = fixture("image.jpg");
    const size_t end = jpeg.rfind("\xff\xd9");
    ASSERT_NE(end, std::string::npos);
    std::string many = jpeg.substr(0, end);
    for (int i = 0; i < 64; ++i) {
        many += std::string("\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00", 10);
    }
    many += "\xff\xd9";
    EXPECT_EQ(refusal(many), "The image has more than 64 JPEG scans; this server decodes fewer.");
}

// Random damage anywhere: the probe must answer (either way) without reading
// outside the bytes; run under ASan to make that a hard check.
TEST(ProbeImage, SurvivesRandomDamage) {
    std::mt19937 random(42);
    for (const auto& [file, format] : good_images) {
        const std::string original = fixture(file);
        for (int round = 0; round < 300; ++round) {
            std::string bytes = original;
            for (int i = 0; i < 4; ++i) {
                bytes[random() % bytes.size()] = static_cast<char>(random());
            }
            (void)probe_image(bytes, defaults);
        }
    }
    SUCCEED();
}

}  // namespace
}  // namespace osprey::media
