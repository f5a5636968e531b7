#include "api/openai_format.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace osprey::api::openai {
namespace {

using json = nlohmann::json;

// The data of the one event a call returned.
json only(const std::vector<stream_event>& events) {
    EXPECT_EQ(events.size(), 1u);
    EXPECT_TRUE(events.empty() || events[0].name.empty()) << "OpenAI names no events";
    return events.empty() ? json() : json::parse(events[0].data);
}

completion_result one_choice(const std::string& text) {
    completion_result r;
    r.choices.push_back({text, {}, {}, {}, core::finish_reason::length, {}});
    r.prompt_tokens = 5;
    r.completion_tokens = 3;
    return r;
}

TEST(OpenAiFormat, ErrorBodyHasOpenAiShape) {
    auto body = json::parse(error_body(
        core::make_error(core::error_code::invalid_value, "bad temperature", "temperature")));
    EXPECT_EQ(body["error"]["message"], "bad temperature");
    EXPECT_EQ(body["error"]["type"], "invalid_request_error");
    EXPECT_EQ(body["error"]["param"], "temperature");
    EXPECT_EQ(body["error"]["code"], "invalid_value");
    auto no_param = json::parse(error_body(core::make_error(core::error_code::internal, "x")));
    EXPECT_TRUE(no_param["error"]["param"].is_null());
    auto timeout = json::parse(error_body(core::make_error(core::error_code::timeout, "late")));
    EXPECT_EQ(timeout["error"]["type"], "timeout_error");
    EXPECT_EQ(timeout["error"]["code"], "request_timeout");
}

TEST(OpenAiFormat, ErrorBodyNeverCarriesInternalDetail) {
    core::error e = core::make_error(core::error_code::internal, "failed");
    e.internal_detail = "llama_decode returned -3 at /secret/path";
    EXPECT_EQ(error_body(e).find("secret"), std::string::npos);
}

TEST(OpenAiFormat, ChatResponse) {
    auto f = make_formatter(endpoint::chat, "stories", false, false);
    auto body = json::parse(f->response(one_choice("Once")));
    EXPECT_EQ(body["object"], "chat.completion");
    EXPECT_EQ(body["model"], "stories");
    EXPECT_EQ(body["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
    EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
    EXPECT_EQ(body["choices"][0]["message"]["content"], "Once");
    EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
    EXPECT_TRUE(body["choices"][0]["logprobs"].is_null());
    EXPECT_EQ(body["usage"]["total_tokens"], 8);
    EXPECT_EQ(body["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
}

TEST(OpenAiFormat, ChatChunksShareIdAndEndWithDone) {
    auto f = make_formatter(endpoint::chat, "m", true, false);
    auto first = only(f->stream_start(1, 5));
    EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
    auto delta = only(f->stream_delta({0, "Hi", {}, {}, {}}));
    EXPECT_EQ(delta["object"], "chat.completion.chunk");
    EXPECT_EQ(delta["id"], first["id"]);
    EXPECT_EQ(delta["choices"][0]["delta"]["content"], "Hi");
    EXPECT_TRUE(delta["usage"].is_null());
    auto fin = only(f->stream_finish({0, core::finish_reason::stop, {}, 5, 0, 3}));
    EXPECT_EQ(fin["choices"][0]["finish_reason"], "stop");
    auto end = f->stream_end(one_choice("Hi"));
    ASSERT_EQ(end.size(), 2u);
    auto usage = json::parse(end[0].data);
    EXPECT_TRUE(usage["choices"].empty());
    EXPECT_EQ(usage["usage"]["prompt_tokens"], 5);
    EXPECT_EQ(end[1].data, "[DONE]");
}

TEST(OpenAiFormat, AnErrorMidStreamIsAChunkThenDone) {
    auto f = make_formatter(endpoint::chat, "m", false, false);
    auto events = f->stream_error(core::make_error(core::error_code::internal, "decode failed"));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(json::parse(events[0].data)["error"]["message"], "decode failed");
    EXPECT_EQ(events[1].data, "[DONE]");
}

TEST(OpenAiFormat, ChatLogprobsCarryBytes) {
    auto f = make_formatter(endpoint::chat, "m", false, true);
    core::token_logprob lp{"\xe2\x82", -0.25f, {{"\xe2\x82", -0.25f}, {"a", -2.0f}}};
    auto delta = only(f->stream_delta({0, "", {lp}, {}, {}}));
    auto entry = delta["choices"][0]["logprobs"]["content"][0];
    EXPECT_EQ(entry["bytes"], json::array({0xe2, 0x82}));
    EXPECT_FLOAT_EQ(entry["logprob"].get<float>(), -0.25f);
    EXPECT_EQ(entry["top_logprobs"].size(), 2u);
}

TEST(OpenAiFormat, CompletionShapes) {
    auto f = make_formatter(endpoint::completions, "m", false, true);
    completion_result r = one_choice("ab");
    r.choices[0].logprobs = {{"a", -1.0f, {{"a", -1.0f}}}, {"b", -2.0f, {}}};
    auto body = json::parse(f->response(r));
    EXPECT_EQ(body["object"], "text_completion");
    EXPECT_EQ(body["choices"][0]["text"], "ab");
    EXPECT_EQ(body["choices"][0]["logprobs"]["tokens"], json::array({"a", "b"}));
    EXPECT_EQ(body["choices"][0]["logprobs"]["text_offset"], json::array({0, 1}));
    EXPECT_TRUE(f->stream_start(1, 5).empty());
    auto chunk = only(f->stream_delta({0, "a", {{"a", -1.0f, {}}}, {}, {}}));
    EXPECT_EQ(chunk["choices"][0]["text"], "a");
    auto next = only(f->stream_delta({0, "b", {{"b", -1.0f, {}}}, {}, {}}));
    EXPECT_EQ(next["choices"][0]["logprobs"]["text_offset"], json::array({1}));
}

// Tool calls stream as OpenAI's SDK puts them back together: the first piece
// of a call with its index, id, type and name; later pieces with arguments
// only. The whole response has content null and the calls.
TEST(OpenAiFormat, ToolCallDeltasAndMessage) {
    auto f = make_formatter(endpoint::chat, "m", false, false);
    f->expect_parts();
    core::text_delta first;
    first.tool_calls = {{0, "call_1", "get_weather", "{\"ci"}};
    auto chunk = only(f->stream_delta(first));
    auto delta = chunk["choices"][0]["delta"];
    EXPECT_FALSE(delta.contains("content"));
    EXPECT_EQ(delta["tool_calls"][0], json::parse(R"({"index":0,"id":"call_1","type":"function",
                              "function":{"name":"get_weather","arguments":"{\"ci"}})"));
    core::text_delta next;
    next.tool_calls = {{0, "", "", "ty\": 1}"}};
    EXPECT_EQ(only(f->stream_delta(next))["choices"][0]["delta"]["tool_calls"][0],
              json::parse(R"({"index":0,"function":{"arguments":"ty\": 1}"}})"));
    core::text_delta thinking;
    thinking.reasoning = "Hmm.";
    EXPECT_EQ(only(f->stream_delta(thinking))["choices"][0]["delta"],
              json::parse(R"({"reasoning_content":"Hmm."})"));

    completion_result whole = one_choice("");
    whole.choices[0].reason = core::finish_reason::tool_calls;
    whole.choices[0].tool_calls = {{"call_1", "get_weather", R"({"city": 1})", {}}};
    auto body = json::parse(f->response(whole));
    auto message = body["choices"][0]["message"];
    EXPECT_TRUE(message["content"].is_null());
    EXPECT_EQ(message["tool_calls"][0]["function"]["arguments"], R"({"city": 1})");
    EXPECT_EQ(body["choices"][0]["finish_reason"], "tool_calls");
}

}  // namespace
}  // namespace osprey::api::openai
