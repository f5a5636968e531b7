#include "core/utf8.hpp"

#include <gtest/gtest.h>

namespace osprey::core {
namespace {

TEST(Utf8CompletePrefix, AsciiIsComplete) {
    EXPECT_EQ(utf8_complete_prefix("hello"), 5u);
    EXPECT_EQ(utf8_complete_prefix(""), 0u);
}

TEST(Utf8CompletePrefix, HoldsBackTruncatedCharacters) {
    const std::string euro = "\xe2\x82\xac";  // U+20AC, three bytes
    EXPECT_EQ(utf8_complete_prefix("a" + euro), 4u);
    EXPECT_EQ(utf8_complete_prefix("a" + euro.substr(0, 1)), 1u);
    EXPECT_EQ(utf8_complete_prefix("a" + euro.substr(0, 2)), 1u);
    const std::string emoji = "\xf0\x9f\x90\xa6";  // U+1F426, four bytes
    EXPECT_EQ(utf8_complete_prefix(emoji.substr(0, 3)), 0u);
    EXPECT_EQ(utf8_complete_prefix(emoji), 4u);
}

TEST(Utf8CompletePrefix, NeverWaitsForInvalidBytes) {
    // A lone continuation byte or an impossible lead byte is not the start of
    // anything: waiting for more would hold the text back for ever.
    EXPECT_EQ(utf8_complete_prefix("a\x80"), 2u);
    EXPECT_EQ(utf8_complete_prefix("a\xff"), 2u);
    // A lead byte followed by a non-continuation byte is broken, not pending.
    EXPECT_EQ(utf8_complete_prefix("\xe2"
                                   "a"),
              2u);
}

TEST(Utf8Sanitize, KeepsValidText) {
    const std::string text = "caf\xc3\xa9 \xf0\x9f\x90\xa6";
    EXPECT_EQ(sanitize_utf8(text), text);
}

TEST(Utf8Sanitize, ReplacesInvalidSequences) {
    const std::string replacement = "\xef\xbf\xbd";
    EXPECT_EQ(sanitize_utf8("a\x80z"), "a" + replacement + "z");
    EXPECT_EQ(sanitize_utf8("\xe2\x82"), replacement + replacement);
    // Overlong encoding of '/', a classic filter bypass.
    EXPECT_EQ(sanitize_utf8("\xc0\xaf"), replacement + replacement);
    // UTF-16 surrogates are not characters.
    EXPECT_EQ(sanitize_utf8("\xed\xa0\x80"), replacement + replacement + replacement);
    // Past U+10FFFF.
    EXPECT_EQ(sanitize_utf8("\xf4\x90\x80\x80").find(replacement), 0u);
}

}  // namespace
}  // namespace osprey::core
