#include "engine/text_stream.hpp"

#include <gtest/gtest.h>

namespace osprey::engine {
namespace {

core::token_logprob lp(const std::string& token) {
    return {token, -0.5f, {}};
}

std::string feed(text_stream& s, const std::vector<std::string>& pieces) {
    std::string out;
    for (const auto& p : pieces) {
        out += s.push(p, std::nullopt).text;
    }
    return out;
}

TEST(TextStream, PassesTextThroughWithoutStops) {
    text_stream s({});
    EXPECT_EQ(s.push("Once", std::nullopt).text, "Once");
    EXPECT_EQ(s.push(" upon", std::nullopt).text, " upon");
    EXPECT_FALSE(s.stopped());
}

TEST(TextStream, StopsAtStopSequenceAndDropsIt) {
    text_stream s({"END"});
    EXPECT_EQ(feed(s, {"The story", " ends. END and more"}), "The story ends. ");
    EXPECT_TRUE(s.stopped());
    EXPECT_EQ(s.push("ignored", std::nullopt).text, "");
}

TEST(TextStream, FindsStopSequenceSplitAcrossTokens) {
    text_stream s({"<|end|>"});
    std::string out = feed(s, {"Hi", " <|", "en", "d|", "> tail"});
    EXPECT_EQ(out, "Hi ");
    EXPECT_TRUE(s.stopped());
}

TEST(TextStream, ReleasesHeldTextThatTurnsOutNotToBeAStop) {
    text_stream s({"STOP"});
    EXPECT_EQ(s.push("a ST", std::nullopt).text, "a ");
    EXPECT_EQ(s.push("ART", std::nullopt).text, "START");
    EXPECT_FALSE(s.stopped());
}

TEST(TextStream, FlushReleasesAPartialStopAtTheEnd) {
    text_stream s({"STOP"});
    EXPECT_EQ(s.push("ab ST", std::nullopt).text, "ab ");
    EXPECT_EQ(s.flush().text, "ST");
}

TEST(TextStream, EarliestOfSeveralStopsWins) {
    text_stream s({"bb", "a"});
    EXPECT_EQ(feed(s, {"xxbb a"}), "xx");
}

// Anthropic's stop_sequence names the one that ended the text.
TEST(TextStream, NamesTheStopSequenceItFound) {
    text_stream none({"STOP"});
    feed(none, {"no stop here"});
    EXPECT_EQ(none.matched(), "");

    text_stream tie({"zzz", "</answer>", "</a"});
    EXPECT_EQ(feed(tie, {"x </answer> y"}), "x ");
    EXPECT_EQ(tie.matched(), "</answer>");  // starts where "</a" does, and is listed first

    text_stream later({"B", "A"});
    EXPECT_EQ(feed(later, {"xAyB"}), "x");
    EXPECT_EQ(later.matched(), "A");
}

TEST(TextStream, NeverSplitsAUtf8Character) {
    text_stream s({});
    // U+1F426 arrives one byte per token, as byte-fallback vocabularies do.
    EXPECT_EQ(s.push("bird \xf0", std::nullopt).text, "bird ");
    EXPECT_EQ(s.push("\x9f", std::nullopt).text, "");
    EXPECT_EQ(s.push("\x90", std::nullopt).text, "");
    EXPECT_EQ(s.push("\xa6", std::nullopt).text, "\xf0\x9f\x90\xa6");
}

TEST(TextStream, FlushReplacesAnUnfinishedCharacter) {
    text_stream s({});
    EXPECT_EQ(s.push("x\xe2\x82", std::nullopt).text, "x");
    EXPECT_EQ(s.flush().text, "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(TextStream, LogprobsTravelWithTheTextOfTheirToken) {
    text_stream s({});
    auto first = s.push("\xe2", lp("\xe2"));
    EXPECT_EQ(first.text, "");
    EXPECT_TRUE(first.logprobs.empty());
    auto second = s.push("\x82\xac", lp("\x82\xac"));
    EXPECT_EQ(second.text, "\xe2\x82\xac");
    ASSERT_EQ(second.logprobs.size(), 2u);
    EXPECT_EQ(second.logprobs[0].token, "\xe2");
}

TEST(TextStream, LogprobsOfTheStopSequenceAreDropped) {
    text_stream s({"!"});
    auto a = s.push("yes", lp("yes"));
    auto b = s.push("!", lp("!"));
    EXPECT_EQ(a.logprobs.size(), 1u);
    EXPECT_TRUE(b.logprobs.empty());
    EXPECT_TRUE(s.stopped());
}

TEST(TextStream, EmptyStopSequencesAreIgnored) {
    text_stream s({""});
    EXPECT_EQ(s.push("text", std::nullopt).text, "text");
    EXPECT_FALSE(s.stopped());
}

}  // namespace
}  // namespace osprey::engine
