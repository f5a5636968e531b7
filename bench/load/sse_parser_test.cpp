#include "bench/load/sse_parser.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace osprey::bench::load {
namespace {

std::vector<sse_event> parse_in_pieces(std::string_view body, std::size_t piece) {
    sse_parser parser;
    std::vector<sse_event> events;
    for (std::size_t pos = 0; pos < body.size(); pos += piece) {
        EXPECT_TRUE(parser.feed(body.substr(pos, piece), events).has_value());
    }
    return events;
}

std::vector<std::string> data_of(const std::vector<sse_event>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) {
        out.push_back(e.data);
    }
    return out;
}

TEST(SseParser, SplitsEventsAtBlankLines) {
    const auto events = parse_in_pieces("data: {\"a\":1}\n\ndata: [DONE]\n\n", 1000);
    EXPECT_EQ(data_of(events), (std::vector<std::string>{"{\"a\":1}", "[DONE]"}));
}

TEST(SseParser, GivesTheSameEventsWhereverTheBodyIsCut) {
    const std::string body =
        ": keep-alive\r\n\r\nevent: delta\r\ndata: one\r\ndata:two\r\n\r\n"
        "id: 7\rdata: three\r\rdata: four\n\ndata: [DONE]\r\n\r\n";
    const std::vector<std::string> want = {"one\ntwo", "three", "four", "[DONE]"};
    for (std::size_t piece = 1; piece <= body.size(); ++piece) {
        const auto events = parse_in_pieces(body, piece);
        ASSERT_EQ(data_of(events), want) << "pieces of " << piece << " bytes";
        EXPECT_EQ(events[0].name, "delta");
        EXPECT_EQ(events[1].name, "");
    }
}

TEST(SseParser, TakesACrThenAnLfInTheNextPieceAsOneLineBreak) {
    sse_parser parser;
    std::vector<sse_event> events;
    ASSERT_TRUE(parser.feed("data: x\r", events));
    ASSERT_TRUE(parser.feed("\n\r", events));
    ASSERT_TRUE(parser.feed("\n", events));
    EXPECT_EQ(data_of(events), (std::vector<std::string>{"x"}));
}

TEST(SseParser, HoldsAnEventUntilItsBlankLine) {
    sse_parser parser;
    std::vector<sse_event> events;
    ASSERT_TRUE(parser.feed("data: partial\n", events));
    EXPECT_TRUE(events.empty());
    ASSERT_TRUE(parser.feed("\n", events));
    EXPECT_EQ(data_of(events), (std::vector<std::string>{"partial"}));
}

TEST(SseParser, DropsEventsWithoutDataAndKeepsEmptyData) {
    const auto events = parse_in_pieces("event: ping\n\nretry: 5\n\ndata\n\ndata:\n\n", 3);
    EXPECT_EQ(data_of(events), (std::vector<std::string>{"", ""}));
    EXPECT_EQ(events[0].name, "");
}

TEST(SseParser, KeepsSpacesAfterTheFirstAndSkipsALeadingByteOrderMark) {
    const auto events = parse_in_pieces(
        "\xEF\xBB\xBF"
        "data:   spaced \n\n",
        2);
    EXPECT_EQ(data_of(events), (std::vector<std::string>{"  spaced "}));
}

TEST(SseParser, FailsOnALineOverTheLimitAndStaysFailed) {
    sse_parser parser(16);
    std::vector<sse_event> events;
    ASSERT_TRUE(parser.feed("data: 0123456", events));
    EXPECT_FALSE(parser.feed("789abcdef", events));
    EXPECT_FALSE(parser.feed("\n\n", events));
    EXPECT_TRUE(events.empty());
}

TEST(SseParser, FailsOnAnEventWhoseDataGrowsOverTheLimit) {
    sse_parser parser(16);
    std::vector<sse_event> events;
    EXPECT_FALSE(parser.feed("data: 012345678\ndata: 012345678\n", events));
}

}  // namespace
}  // namespace osprey::bench::load
