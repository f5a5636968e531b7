#include "api/strict_json.hpp"

#include <gtest/gtest.h>

namespace osprey::api {
namespace {

core::error refusal(const std::string& body, size_t depth = 64) {
    auto parsed = parse_strict_json(body, depth);
    EXPECT_FALSE(parsed) << body;
    if (parsed) {
        return {};
    }
    EXPECT_EQ(parsed.error().code, core::error_code::invalid_json);
    return parsed.error();
}

TEST(StrictJson, ParsesWhatPlainJsonParses) {
    const std::string body =
        R"({"a":[1,-2,3.5,true,null,"x",{"b":[]}],"c":{"d":{"e":18446744073709551615}}})";
    auto parsed = parse_strict_json(body, 64);
    ASSERT_TRUE(parsed) << parsed.error().public_message;
    EXPECT_EQ(*parsed, nlohmann::json::parse(body));
}

// Parsers disagree on which of two equal keys wins, so a proxy that checks
// one and a server that uses the other would read different requests.
TEST(StrictJson, RefusesADuplicateKeyNamingIt) {
    auto e = refusal(R"({"model":"a","model":"b"})");
    EXPECT_EQ(e.param, "model");
    EXPECT_EQ(e.public_message,
              "The request body is not valid JSON: the key 'model' appears twice in one object.");
    EXPECT_EQ(refusal(R"({"messages":[{"role":"user"},{"role":"user","role":"system"}]})").param,
              "messages[1].role");
    EXPECT_EQ(refusal(R"({"a":{"b":{"c":1,"c":2}}})").param, "a.b.c");
    EXPECT_TRUE(parse_strict_json(R"({"a":{"x":1},"b":{"x":1}})", 64));
}

TEST(StrictJson, RefusesNestingPastTheLimit) {
    std::string deep(10000, '[');
    EXPECT_NE(refusal(deep + std::string(10000, ']')).public_message.find("deeper than 64"),
              std::string::npos);
    EXPECT_TRUE(parse_strict_json(std::string(64, '[') + std::string(64, ']'), 64));
    EXPECT_FALSE(parse_strict_json(std::string(65, '[') + std::string(65, ']'), 64));
    std::string objects;
    for (int i = 0; i < 65; ++i) {
        objects += R"({"a":)";
    }
    EXPECT_FALSE(parse_strict_json(objects + "1" + std::string(65, '}'), 64));
}

TEST(StrictJson, RefusesInvalidUtf8AndLoneSurrogates) {
    EXPECT_EQ(refusal("{\"a\":\"\xff\"}").public_message,
              "The request body is not valid JSON: invalid UTF-8 at byte 7.");
    EXPECT_EQ(refusal("{\"a\":\"\xc0\xaf\"}").public_message.find("invalid UTF-8"), 36u);
    EXPECT_NE(refusal(R"({"a":"\ud800"})").public_message.find("lone UTF-16 surrogate"),
              std::string::npos);
    EXPECT_NE(refusal(R"({"a":"\udc00x"})").public_message.find("lone UTF-16 surrogate"),
              std::string::npos);
    EXPECT_TRUE(parse_strict_json(R"({"a":"\ud83d\ude00"})", 64));
}

TEST(StrictJson, RefusesANulInAKeyButNotInAValue) {
    EXPECT_NE(refusal(R"({"mo\u0000del":"x"})").public_message.find("NUL"), std::string::npos);
    EXPECT_TRUE(parse_strict_json(R"({"a":"x\u0000y"})", 64));
}

// The client's own bytes never come back in the message.
TEST(StrictJson, SyntaxErrorsSayWhereNotWhat) {
    const auto e = refusal(R"({"secret-looking-text": tru})");
    EXPECT_EQ(e.public_message.find("secret"), std::string::npos);
    EXPECT_NE(e.public_message.find("at byte"), std::string::npos);
    refusal("");
    refusal("{} {}");
    refusal("{\"a\":1,}");
}

}  // namespace
}  // namespace osprey::api
