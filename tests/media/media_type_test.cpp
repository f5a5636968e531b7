#include "media/media_type.hpp"

#include <gtest/gtest.h>

#include <string>

namespace osprey::media {
namespace {

using namespace std::string_view_literals;

std::string bytes(std::string_view magic, std::size_t pad = 32) {
    return std::string(magic) + std::string(pad, '\0');
}

TEST(SniffFormat, RecognisesEachFormatByItsMagic) {
    EXPECT_EQ(sniff_format(bytes("\x89PNG\r\n\x1a\n")), media_format::png);
    EXPECT_EQ(sniff_format(bytes("\xff\xd8\xff\xe0")), media_format::jpeg);
    EXPECT_EQ(sniff_format(bytes("GIF89a")), media_format::gif);
    EXPECT_EQ(sniff_format(bytes("BM")), media_format::bmp);
    EXPECT_EQ(sniff_format(bytes("RIFF\x10\0\0\0WEBPVP8 "sv)), media_format::webp);
    EXPECT_EQ(sniff_format(bytes("RIFF\x10\0\0\0WAVEfmt "sv)), media_format::wav);
    EXPECT_EQ(sniff_format(bytes("RIFF\x10\0\0\0AVI LIST"sv)), media_format::avi);
    EXPECT_EQ(sniff_format(bytes("ID3\x04")), media_format::mp3);
    EXPECT_EQ(sniff_format(bytes("\xff\xfb\x90")), media_format::mp3);
    EXPECT_EQ(sniff_format(bytes("fLaC")), media_format::flac);
    EXPECT_EQ(sniff_format(bytes("OggS")), media_format::ogg);
    EXPECT_EQ(sniff_format(bytes(std::string("\0\0\0\x18", 4) + "ftypisom")), media_format::mp4);
    EXPECT_EQ(sniff_format(bytes(std::string("\0\0\0\x18", 4) + "ftypM4A ")), media_format::m4a);
    EXPECT_EQ(sniff_format(bytes("\x1a\x45\xdf\xa3")), media_format::webm);
}

TEST(SniffFormat, RefusesWhatOnlyClaimsToBeMedia) {
    // An SVG or an HTML page is not an image, whatever the server says.
    EXPECT_EQ(sniff_format("<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"),
              media_format::unknown);
    EXPECT_EQ(sniff_format("<!DOCTYPE html><html>"), media_format::unknown);
    EXPECT_EQ(sniff_format(""), media_format::unknown);
    EXPECT_EQ(sniff_format("\x89PN"), media_format::unknown);
    EXPECT_EQ(sniff_format(bytes("RIFF\x10\0\0\0XXXX"sv)), media_format::unknown);
}

TEST(Carries, MatchesFormatsToKinds) {
    EXPECT_TRUE(carries(media_format::png, media_kind::image));
    EXPECT_FALSE(carries(media_format::png, media_kind::audio));
    EXPECT_TRUE(carries(media_format::wav, media_kind::audio));
    EXPECT_TRUE(carries(media_format::mp4, media_kind::video));
    EXPECT_FALSE(carries(media_format::unknown, media_kind::image));
    EXPECT_FALSE(carries(media_format::unknown, media_kind::video));
}

}  // namespace
}  // namespace osprey::media
