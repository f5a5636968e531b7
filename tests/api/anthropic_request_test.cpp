#include "api/anthropic_request.hpp"

#include <gtest/gtest.h>

namespace osprey::api::anthropic {
namespace {

core::error messages_error(const std::string& body) {
    auto r = parse_messages_request(body);
    EXPECT_FALSE(r) << body;
    return r ? core::error{} : r.error();
}

// A request with `fields` added to a minimal valid one.
std::string with(const std::string& fields) {
    return R"({"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": "Hi"}])" +
           (fields.empty() ? "" : ", " + fields) + "}";
}

TEST(ParseMessagesRequest, ReadsEverySupportedField) {
    auto r = parse_messages_request(R"({
        "model": "m",
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": "iVBORw0KGgo="}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}}
            ]},
            {"role": "assistant", "content": "A cat."},
            {"role": "user", "content": "Sure?"}
        ],
        "max_tokens": 64, "temperature": 0.5, "top_p": 0.9, "top_k": 40,
        "stop_sequences": ["END", "\n\n"], "stream": true,
        "metadata": {"user_id": "u1"}, "thinking": {"type": "disabled"}
    })");
    ASSERT_TRUE(r) << r.error().public_message;
    EXPECT_EQ(r->model, "m");
    ASSERT_EQ(r->messages.size(), 4u);
    EXPECT_EQ(r->messages[0].role, core::role::system);
    EXPECT_EQ(r->messages[0].parts[0].text, "Be brief.");
    const auto& parts = r->messages[1].parts;
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[1].kind, core::part_kind::image);
    EXPECT_EQ(parts[1].source, "data:image/png;base64,iVBORw0KGgo=");
    EXPECT_EQ(parts[1].param, "messages[0].content[1].source.data");
    EXPECT_EQ(parts[2].source, "https://example.com/a.jpg");
    EXPECT_EQ(parts[2].param, "messages[0].content[2].source.url");
    EXPECT_EQ(r->max_tokens, 64);
    EXPECT_FLOAT_EQ(r->sampling.temperature, 0.5f);
    EXPECT_FLOAT_EQ(r->sampling.top_p, 0.9f);
    EXPECT_EQ(r->sampling.top_k, 40);
    EXPECT_EQ(r->stop, (std::vector<std::string>{"END", "\n\n"}));
    EXPECT_TRUE(r->stream);
    EXPECT_FALSE(r->prefill);
    EXPECT_EQ(r->n, 1);
}

TEST(ParseMessagesRequest, MaxTokensIsRequired) {
    auto e = messages_error(R"({"model": "m", "messages": [{"role": "user", "content": "x"}]})");
    EXPECT_EQ(e.code, core::error_code::missing_parameter);
    EXPECT_EQ(e.param, "max_tokens");
    EXPECT_EQ(
        messages_error(
            R"({"model": "m", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]})")
            .param,
        "max_tokens");
}

TEST(ParseMessagesRequest, RangesAreAnthropics) {
    EXPECT_EQ(messages_error(with(R"("temperature": 1.5)")).param, "temperature");
    EXPECT_EQ(messages_error(with(R"("top_p": -0.1)")).param, "top_p");
    EXPECT_EQ(messages_error(with(R"("top_k": -1)")).param, "top_k");
    EXPECT_TRUE(parse_messages_request(with(R"("temperature": 1.0, "top_k": 0)")));
}

TEST(ParseMessagesRequest, TurnsOfOneRoleAreCombined) {
    auto r = parse_messages_request(R"({"model": "m", "max_tokens": 8, "messages": [
        {"role": "user", "content": "a"},
        {"role": "user", "content": [{"type": "text", "text": "b"}]},
        {"role": "assistant", "content": "c"}, {"role": "user", "content": "d"}]})");
    ASSERT_TRUE(r) << r.error().public_message;
    ASSERT_EQ(r->messages.size(), 3u);
    ASSERT_EQ(r->messages[0].parts.size(), 2u);
    EXPECT_EQ(r->messages[0].parts[1].text, "b");
}

TEST(ParseMessagesRequest, AFinalAssistantTurnIsAPrefill) {
    auto r = parse_messages_request(R"({"model": "m", "max_tokens": 8, "messages": [
        {"role": "user", "content": "Count"}, {"role": "assistant", "content": "1, 2,"}]})");
    ASSERT_TRUE(r) << r.error().public_message;
    EXPECT_TRUE(r->prefill);
    EXPECT_EQ(r->messages.back().role, core::role::assistant);
}

TEST(ParseMessagesRequest, RefusesWhatAnthropicRefuses) {
    auto e = messages_error(R"({"model": "m", "max_tokens": 8, "messages": [
        {"role": "user", "content": "Count"}, {"role": "assistant", "content": "1, 2, "}]})");
    EXPECT_EQ(e.param, "messages[1].content");
    EXPECT_NE(e.public_message.find("whitespace"), std::string::npos);
    e = messages_error(R"({"model": "m", "max_tokens": 8, "messages": [
        {"role": "user", "content": ""}]})");
    EXPECT_EQ(e.param, "messages[0].content");
    e = messages_error(R"({"model": "m", "max_tokens": 8, "messages": [
        {"role": "user", "content": []}]})");
    EXPECT_EQ(e.param, "messages[0].content");
    EXPECT_EQ(messages_error(with(R"("service_tier": 42)")).param, "service_tier");
    EXPECT_EQ(messages_error(with(R"("service_tier": "priority")")).param, "service_tier");
    EXPECT_TRUE(parse_messages_request(with(R"("service_tier": "auto")")));
    // An empty final assistant turn is a prefill of nothing, which Anthropic allows.
    EXPECT_TRUE(parse_messages_request(R"({"model": "m", "max_tokens": 8, "messages": [
        {"role": "user", "content": "x"}, {"role": "assistant", "content": ""}]})"));
}

// Anthropic's clients ask for what their own model could write; here the
// answer ends where the context does instead of the request being refused.
TEST(ParseMessagesRequest, MaxTokensIsACap) {
    auto r = parse_messages_request(with(""));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->max_tokens_is_cap);
}

TEST(ParseMessagesRequest, TheFirstTurnIsTheUsers) {
    auto e = messages_error(
        R"({"model": "m", "max_tokens": 8, "messages": [{"role": "assistant", "content": "x"}]})");
    EXPECT_EQ(e.param, "messages[0].role");
    e = messages_error(
        R"({"model": "m", "max_tokens": 8, "messages": [{"role": "system", "content": "x"}]})");
    EXPECT_EQ(e.param, "messages[0].role");
    EXPECT_NE(e.public_message.find("top-level 'system'"), std::string::npos);
}

// What osprey cannot honour is refused by name, never dropped.
TEST(ParseMessagesRequest, RefusesWhatItCannotHonour) {
    EXPECT_EQ(messages_error(with(R"("tools": [{"type": "bash_20250124", "name": "bash"}])")).param,
              "tools[0].type");
    EXPECT_EQ(messages_error(with(R"("tools": [{"name": "f"}])")).param, "tools[0].input_schema");
    EXPECT_EQ(messages_error(with(R"("tool_choice": {"type": "any"})")).param, "tool_choice");
    EXPECT_EQ(messages_error(with(R"("thinking": {"type": "enabled"})")).param,
              "thinking.budget_tokens");
    auto e = messages_error(R"({"model": "m", "max_tokens": 8, "messages": [{"role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "t",
                     "content": [{"type": "image", "source": {}}]}]}]})");
    EXPECT_EQ(e.param, "messages[0].content[0].content[0]");
    e = messages_error(R"({"model": "m", "max_tokens": 8, "messages": [{"role": "user",
        "content": [{"type": "document", "source": {}}]}]})");
    EXPECT_EQ(e.param, "messages[0].content[0].type");
    e = messages_error(R"({"model": "m", "max_tokens": 8, "messages": [{"role": "user",
        "content": [{"type": "image", "source": {"type": "file", "file_id": "f"}}]}]})");
    EXPECT_EQ(e.param, "messages[0].content[0].source.type");
    EXPECT_EQ(messages_error(with(R"("n": 2)")).code, core::error_code::unknown_parameter);
}

// Tools, a forced choice, and a conversation that called one: tool_use blocks
// become the assistant's calls, tool_result blocks turns of their own before
// the user's text.
TEST(ParseMessagesRequest, ReadsToolsAndToolTurns) {
    auto r = parse_messages_request(R"({"model": "m", "max_tokens": 8,
        "tools": [{"name": "get_weather", "description": "Weather.",
                   "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
        "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": true},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Call it.", "signature": "s"},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                 "input": {"city": "Paris"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny",
                 "is_error": true},
                {"type": "text", "text": "Thanks."}]}]})");
    ASSERT_TRUE(r) << r.error().public_message;
    ASSERT_EQ(r->tools.size(), 1u);
    EXPECT_EQ(r->tools[0].name, "get_weather");
    EXPECT_EQ(r->tools[0].description, "Weather.");
    EXPECT_EQ(r->tool_choice, core::tool_choice::named);
    EXPECT_EQ(r->tool_choice_name, "get_weather");
    EXPECT_FALSE(r->parallel_tool_calls);
    EXPECT_EQ(r->thinking, std::optional<bool>(true));
    ASSERT_EQ(r->messages.size(), 4u);
    ASSERT_EQ(r->messages[1].tool_calls.size(), 1u);
    EXPECT_EQ(r->messages[1].tool_calls[0].id, "toolu_1");
    EXPECT_EQ(r->messages[1].tool_calls[0].arguments, R"({"city":"Paris"})");
    EXPECT_EQ(r->messages[2].role, core::role::tool);
    EXPECT_EQ(r->messages[2].tool_call_id, "toolu_1");
    EXPECT_EQ(r->messages[2].parts.at(0).text, "Error: sunny");
    EXPECT_EQ(r->messages[3].role, core::role::user);
    EXPECT_EQ(r->messages[3].parts.at(0).text, "Thanks.");
    EXPECT_FALSE(r->prefill);
}

TEST(ParseMessagesRequest, ChecksImageSources) {
    auto e = messages_error(R"({"model": "m", "max_tokens": 8, "messages": [{"role": "user",
        "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/tiff",
        "data": "AAAA"}}]}]})");
    EXPECT_EQ(e.param, "messages[0].content[0].source.media_type");
    e = messages_error(R"({"model": "m", "max_tokens": 8, "messages": [{"role": "user",
        "content": [{"type": "image", "source": {"type": "base64", "data": "AAAA"}}]}]})");
    EXPECT_EQ(e.code, core::error_code::missing_parameter);
    EXPECT_EQ(e.param, "messages[0].content[0].source.media_type");
    e = messages_error(R"({"model": "m", "max_tokens": 8, "messages": [{"role": "user",
        "content": [{"type": "image"}]}]})");
    EXPECT_EQ(e.param, "messages[0].content[0].source");
    // Media in a prefill would end the prompt with media, which no model continues.
    e = messages_error(R"({"model": "m", "max_tokens": 8, "messages": [
        {"role": "user", "content": "x"}, {"role": "assistant", "content": [{"type": "image",
        "source": {"type": "url", "url": "https://example.com/a.png"}}]}]})");
    EXPECT_EQ(e.param, "messages[1].content[0].source.url");
}

TEST(ParseMessagesRequest, BoundsWhatItReads) {
    std::string many = R"({"model": "m", "max_tokens": 8, "stop_sequences": [)";
    for (int i = 0; i <= max_stop_sequences; ++i) {
        many += (i ? ", \"s" : "\"s") + std::to_string(i) + "\"";
    }
    EXPECT_EQ(messages_error(many + R"(], "messages": [{"role": "user", "content": "x"}]})").param,
              "stop_sequences");
    EXPECT_EQ(messages_error(with(R"("stop_sequences": [""])")).param, "stop_sequences");
    EXPECT_EQ(messages_error(with(R"("system": 5)")).param, "system");
    EXPECT_EQ(messages_error(with(R"("system": [{"type": "image", "source": {}}])")).param,
              "system[0]");
    EXPECT_EQ(messages_error(with(R"("metadata": {"user_id": "u", "extra": 1})")).param,
              "metadata.extra");
}

TEST(ParseCountTokensRequest, TakesTheConversationOnly) {
    auto r = parse_count_tokens_request(
        R"({"model": "m", "system": "s", "messages": [{"role": "user", "content": "x"}]})");
    ASSERT_TRUE(r) << r.error().public_message;
    EXPECT_EQ(r->messages.size(), 2u);
    EXPECT_FALSE(r->max_tokens);
    auto e = parse_count_tokens_request(
        R"({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]})");
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, core::error_code::unknown_parameter);
}

}  // namespace
}  // namespace osprey::api::anthropic
