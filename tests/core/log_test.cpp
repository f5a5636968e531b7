#include "core/log.hpp"

#include <gtest/gtest.h>

namespace osprey::core::log {
namespace {

class LogFormat : public ::testing::Test {
protected:
    void TearDown() override { configure(format::text, spdlog::level::info); }
};

TEST_F(LogFormat, TextQuotesValuesThatCouldForgeFields) {
    configure(format::text, spdlog::level::info);
    EXPECT_EQ(format_event("http.request", {{"req", "req_1"}, {"status", 200}}),
              "http.request req=req_1 status=200");
    // A newline or a "key=value" inside a value must not start a new line or field.
    EXPECT_EQ(format_event("e", {{"path", "/x\nfake.event a=b"}}),
              "e path=\"/x\\nfake.event a=b\"");
    EXPECT_EQ(format_event("e", {{"empty", ""}}), "e empty=\"\"");
}

TEST_F(LogFormat, JsonEscapesAndKeepsNumbersRaw) {
    configure(format::json, spdlog::level::info);
    EXPECT_EQ(format_event("e", {{"s", "a\"b"}, {"n", 3}, {"ok", true}}),
              R"("event":"e","s":"a\"b","n":3,"ok":true)");
    EXPECT_EQ(format_event("e", {{"c", "\x01"}}), R"("event":"e","c":"\u0001")");
}

TEST_F(LogFormat, JsonLinesStayUtf8WhateverTheClientSent) {
    configure(format::json, spdlog::level::info);
    // A request path of raw bytes must not make the log line unparseable.
    EXPECT_EQ(format_event("e", {{"path", "/\xff\xfe"}}),
              "\"event\":\"e\",\"path\":\"/\xef\xbf\xbd\xef\xbf\xbd\"");
}

// Regression (found by the log_event fuzzer): NEL and the Unicode line
// separators went into text lines as they were, and some log viewers break
// lines at them; broken UTF-8 went in raw too.
TEST_F(LogFormat, NoValueHoldsALineBreakOfAnyKind) {
    configure(format::text, spdlog::level::info);
    EXPECT_EQ(format_event("e", {{"path",
                                  "/a\xc2\x85"
                                  "b\xe2\x80\xa8"
                                  "c\xe2\x80\xa9"}}),
              R"(e path="/a\u0085b\u2028c\u2029")");
    EXPECT_EQ(format_event("e", {{"model", "caf\xc3\xa9"}}), "e model=\"caf\xc3\xa9\"");
    EXPECT_EQ(format_event("e", {{"path", "/\xff"}}), "e path=\"/\xef\xbf\xbd\"");
    configure(format::json, spdlog::level::info);
    EXPECT_EQ(format_event("e", {{"s", "x\xe2\x80\xa8y"}}), R"("event":"e","s":"x\u2028y")");
}

}  // namespace
}  // namespace osprey::core::log
