#include "api/anthropic_format.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace osprey::api::anthropic {
namespace {

using json = nlohmann::json;

completion_result one_choice(const std::string& text, core::finish_reason reason,
                             const std::string& stop_sequence = {}) {
    completion_result r;
    r.choices.push_back({text, {}, {}, {}, reason, stop_sequence});
    r.prompt_tokens = 7;
    r.completion_tokens = 3;
    return r;
}

TEST(AnthropicFormat, ErrorBodyHasAnthropicShape) {
    auto body = json::parse(error_body(
        core::make_error(core::error_code::invalid_value, "bad top_p", "top_p"), "req_1"));
    EXPECT_EQ(body["type"], "error");
    EXPECT_EQ(body["error"]["type"], "invalid_request_error");
    EXPECT_EQ(body["error"]["message"], "bad top_p");
    EXPECT_EQ(body["request_id"], "req_1");
    auto type_of = [](core::error_code code) {
        return json::parse(error_body(core::make_error(code, "x"), "r"))["error"]["type"];
    };
    EXPECT_EQ(type_of(core::error_code::unauthorized), "authentication_error");
    EXPECT_EQ(type_of(core::error_code::model_not_found), "not_found_error");
    EXPECT_EQ(type_of(core::error_code::payload_too_large), "request_too_large");
    EXPECT_EQ(type_of(core::error_code::too_many_requests), "rate_limit_error");
    EXPECT_EQ(type_of(core::error_code::internal), "api_error");
    EXPECT_EQ(type_of(core::error_code::unavailable), "overloaded_error");
    EXPECT_EQ(type_of(core::error_code::timeout), "timeout_error");
    EXPECT_EQ(type_of(core::error_code::unsupported_media_type), "invalid_request_error");
}

TEST(AnthropicFormat, MessageResponse) {
    auto f = make_formatter("tiny");
    auto body = json::parse(f->response(one_choice("Once", core::finish_reason::stop)));
    EXPECT_EQ(body["id"].get<std::string>().rfind("msg_", 0), 0u);
    EXPECT_EQ(body["type"], "message");
    EXPECT_EQ(body["role"], "assistant");
    EXPECT_EQ(body["model"], "tiny");
    EXPECT_EQ(body["content"], json::parse(R"([{"type": "text", "text": "Once"}])"));
    EXPECT_EQ(body["stop_reason"], "end_turn");
    EXPECT_TRUE(body["stop_sequence"].is_null());
    EXPECT_EQ(body["usage"]["input_tokens"], 7);
    EXPECT_EQ(body["usage"]["cache_read_input_tokens"], 0);
    EXPECT_EQ(body["usage"]["output_tokens"], 3);
}

// Anthropic counts the prompt tokens read from a cache apart from the input.
TEST(AnthropicFormat, ReusedPromptTokensAreCacheReads) {
    auto f = make_formatter("m");
    auto result = one_choice("x", core::finish_reason::stop);
    result.cached_tokens = 5;
    auto usage = json::parse(f->response(result))["usage"];
    EXPECT_EQ(usage["input_tokens"], 2);
    EXPECT_EQ(usage["cache_read_input_tokens"], 5);
    EXPECT_EQ(usage["cache_creation_input_tokens"], 0);
    f->stream_start(1, 7);
    auto finish = f->stream_finish({0, core::finish_reason::stop, {}, 7, 5, 1});
    auto delta = json::parse(finish.at(1).data)["usage"];
    EXPECT_EQ(delta["input_tokens"], 2);
    EXPECT_EQ(delta["cache_read_input_tokens"], 5);
}

TEST(AnthropicFormat, StopReasons) {
    auto f = make_formatter("m");
    auto reason = [&](const completion_result& r) {
        return json::parse(f->response(r));
    };
    EXPECT_EQ(reason(one_choice("", core::finish_reason::length))["stop_reason"], "max_tokens");
    auto stopped = reason(one_choice("a", core::finish_reason::stop, "END"));
    EXPECT_EQ(stopped["stop_reason"], "stop_sequence");
    EXPECT_EQ(stopped["stop_sequence"], "END");
}

// The order Anthropic's SDK reads: every event named as its data's type.
TEST(AnthropicFormat, StreamEvents) {
    auto f = make_formatter("m");
    std::vector<stream_event> all;
    auto add = [&](std::vector<stream_event> events) {
        all.insert(all.end(), events.begin(), events.end());
    };
    add(f->stream_start(1, 7));
    add(f->stream_delta({0, "Hel", {}, {}, {}}));
    add(f->stream_delta({0, "", {}, {}, {}}));  // nothing to say: no event
    add(f->stream_delta({0, "lo", {}, {}, {}}));
    add(f->stream_finish({0, core::finish_reason::stop, "END", 7, 0, 2}));
    add(f->stream_end(one_choice("Hello", core::finish_reason::stop, "END")));

    std::vector<std::string> names;
    for (const auto& e : all) {
        names.push_back(e.name);
        EXPECT_EQ(json::parse(e.data)["type"], e.name);
    }
    EXPECT_EQ(names,
              (std::vector<std::string>{"message_start", "content_block_start", "ping",
                                        "content_block_delta", "content_block_delta",
                                        "content_block_stop", "message_delta", "message_stop"}));
    auto start = json::parse(all[0].data)["message"];
    EXPECT_EQ(start["content"], json::array());
    EXPECT_TRUE(start["stop_reason"].is_null());
    EXPECT_EQ(start["usage"]["input_tokens"], 7);
    EXPECT_EQ(json::parse(all[1].data)["content_block"],
              json::parse(R"({"type": "text", "text": ""})"));
    EXPECT_EQ(json::parse(all[3].data)["delta"],
              json::parse(R"({"type": "text_delta", "text": "Hel"})"));
    auto delta = json::parse(all[6].data);
    EXPECT_EQ(delta["delta"]["stop_reason"], "stop_sequence");
    EXPECT_EQ(delta["delta"]["stop_sequence"], "END");
    EXPECT_EQ(delta["usage"]["output_tokens"], 2);
}

TEST(AnthropicFormat, AnErrorMidStreamIsAnErrorEvent) {
    auto f = make_formatter("m");
    auto events = f->stream_error(core::make_error(core::error_code::internal, "decode failed"));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].name, "error");
    auto body = json::parse(events[0].data);
    EXPECT_EQ(body["error"]["type"], "api_error");
    EXPECT_EQ(body["error"]["message"], "decode failed");
}

TEST(AnthropicFormat, CountTokens) {
    EXPECT_EQ(json::parse(count_tokens_body(42)), json::parse(R"({"input_tokens": 42})"));
}

// An answer read apart: a thinking block, then text, then a tool_use block
// whose input streams as JSON text, each block opened as its first piece
// comes; the whole response holds the same blocks, and stop_reason tool_use.
TEST(AnthropicFormat, ThinkingTextAndToolUseBlocks) {
    auto f = make_formatter("m");
    f->expect_parts();
    std::vector<json> events;
    auto add = [&](const std::vector<stream_event>& batch) {
        for (const auto& e : batch) {
            events.push_back(json::parse(e.data));
        }
    };
    add(f->stream_start(1, 9));
    core::text_delta thinking;
    thinking.reasoning = "Hmm.";
    add(f->stream_delta(thinking));
    add(f->stream_delta({0, "Let me look.", {}, {}, {}}));
    core::text_delta call;
    call.tool_calls = {{0, "toolu_1", "get_weather", ""}, {0, "", "", R"({"city":)"}};
    add(f->stream_delta(call));
    core::text_delta more;
    more.tool_calls = {{0, "", "", R"( "Paris"})"}};
    add(f->stream_delta(more));
    add(f->stream_finish({0, core::finish_reason::tool_calls, {}, 9, 0, 5}));
    std::vector<std::string> types;
    for (const auto& e : events) {
        types.push_back(e["type"]);
    }
    EXPECT_EQ(types, (std::vector<std::string>{
                         "message_start", "ping", "content_block_start", "content_block_delta",
                         "content_block_stop", "content_block_start", "content_block_delta",
                         "content_block_stop", "content_block_start", "content_block_delta",
                         "content_block_delta", "content_block_stop", "message_delta"}));
    EXPECT_EQ(events[2]["content_block"]["type"], "thinking");
    EXPECT_EQ(events[3]["delta"]["thinking"], "Hmm.");
    EXPECT_EQ(events[5]["index"], 1);
    EXPECT_EQ(events[8]["content_block"],
              json::parse(R"({"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}})"));
    EXPECT_EQ(events[9]["delta"]["type"], "input_json_delta");
    EXPECT_EQ(events[9]["delta"]["partial_json"], R"({"city":)");
    EXPECT_EQ(events[11]["index"], 2);
    EXPECT_EQ(events[12]["delta"]["stop_reason"], "tool_use");

    completion_result whole = one_choice("Let me look.", core::finish_reason::tool_calls);
    whole.choices[0].reasoning = "Hmm.";
    whole.choices[0].tool_calls = {{"toolu_1", "get_weather", R"({"city": "Paris"})", {}}};
    auto body = json::parse(f->response(whole));
    ASSERT_EQ(body["content"].size(), 3u);
    EXPECT_EQ(body["content"][0]["type"], "thinking");
    EXPECT_EQ(body["content"][1]["text"], "Let me look.");
    EXPECT_EQ(body["content"][2]["input"], json::parse(R"({"city": "Paris"})"));
    EXPECT_EQ(body["stop_reason"], "tool_use");
}

}  // namespace
}  // namespace osprey::api::anthropic
