#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/responses_format.hpp"
#include "api/responses_request.hpp"

namespace osprey::api::responses {
namespace {

using json = nlohmann::json;

core::error refusal(const std::string& body) {
    auto r = parse_request(body);
    EXPECT_FALSE(r) << body;
    return r ? core::error{} : r.error();
}

// The items of a conversation become the chat's turns: instructions first,
// function calls on the assistant turn before them, their outputs tool turns.
TEST(ResponsesRequest, ReadsItemsOntoTurns) {
    auto r = parse_request(R"({"model": "m", "instructions": "Be brief.",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "Weather?"},
                                         {"type": "input_image", "image_url": "https://x/y.png"}]},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather",
             "arguments": "{\"city\": \"Paris\"}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}],
        "tools": [{"type": "function", "name": "get_weather",
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "max_output_tokens": 9, "temperature": 0.5, "metadata": {"k": "v"}, "store": false})");
    ASSERT_TRUE(r) << r.error().public_message;
    ASSERT_TRUE(build_messages(*r, json::array()));
    const auto& m = r->chat.messages;
    ASSERT_EQ(m.size(), 4u);
    EXPECT_EQ(m[0].role, core::role::developer);
    EXPECT_EQ(m[0].parts.at(0).text, "Be brief.");
    EXPECT_EQ(m[1].parts.at(1).kind, core::part_kind::image);
    EXPECT_EQ(m[1].parts.at(1).param, "input[0].content[1].image_url");
    EXPECT_EQ(m[2].role, core::role::assistant);
    ASSERT_EQ(m[2].tool_calls.size(), 1u);
    EXPECT_EQ(m[2].tool_calls[0].id, "call_1");
    EXPECT_EQ(m[3].role, core::role::tool);
    EXPECT_EQ(m[3].tool_call_id, "call_1");
    EXPECT_EQ(r->chat.tool_choice, core::tool_choice::named);
    EXPECT_EQ(r->chat.max_tokens, 9);
    EXPECT_FALSE(r->store);
    EXPECT_EQ(r->metadata, json::parse(R"({"k": "v"})"));
}

// A string input is one user message; an earlier conversation comes first.
TEST(ResponsesRequest, ContinuesAnEarlierConversation) {
    auto r = parse_request(R"({"model": "m", "input": "And then?"})");
    ASSERT_TRUE(r);
    const json earlier = json::parse(R"([
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
        {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "Hello", "annotations": [],
                      "logprobs": []}]}])");
    ASSERT_TRUE(build_messages(*r, earlier));
    const auto& m = r->chat.messages;
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[1].parts.at(0).text, "Hello");
    EXPECT_EQ(m[2].parts.at(0).text, "And then?");
    EXPECT_EQ(r->input_items.at(0)["content"][0]["text"], "And then?");
}

TEST(ResponsesRequest, NamesTheFieldOfWhatItRefuses) {
    EXPECT_EQ(refusal(R"({"model": "m"})").param, "input");
    EXPECT_EQ(refusal(R"({"model": "m", "input": []})").param, "input");
    EXPECT_EQ(refusal(R"({"model": "m", "input": "x", "tools": [{"type": "file_search"}]})").param,
              "tools[0].type");
    EXPECT_EQ(refusal(R"({"model": "m", "input": [{"role": "robot", "content": "x"}]})").param,
              "input[0].role");
    EXPECT_EQ(refusal(R"({"model": "m", "input": [{"role": "user",
        "content": [{"type": "output_text", "text": "x"}]}]})")
                  .param,
              "input[0].content[0].type");
    EXPECT_EQ(refusal(R"({"model": "m", "input": [{"type": "function_call", "call_id": "c",
        "name": "f", "arguments": "[1]"}]})")
                  .param,
              "input[0].arguments");
    EXPECT_EQ(refusal(R"({"model": "m", "input": "x", "text": {"format": {"type": "json_schema",
        "name": "a", "schema": {"type": "string", "pattern": "a"}}}})")
                  .param,
              "text.format.schema.pattern");
    EXPECT_EQ(refusal(R"({"model": "m", "input": "x", "tool_choice": "required"})").param,
              "tool_choice");
    EXPECT_EQ(refusal(R"({"model": "m", "input": "x", "background": true})").param, "background");
    EXPECT_EQ(refusal(R"({"model": "m", "input": "x", "n": 2})").code,
              core::error_code::unknown_parameter);
}

// Streamed text: created and in_progress, the message item and its part
// added, deltas, then each done event and the completed response, every
// event numbered in order.
TEST(ResponsesFormat, StreamsTheEventSequence) {
    auto r = parse_request(R"({"model": "m", "input": "x", "stream": true})");
    ASSERT_TRUE(r);
    auto f = make_formatter(*r, "m", json::array(), nullptr);
    std::vector<json> events;
    auto add = [&](const std::vector<stream_event>& batch) {
        for (const auto& e : batch) {
            events.push_back(json::parse(e.data));
            EXPECT_EQ(events.back()["type"], e.name);
        }
    };
    add(f->stream_start(1, 4));
    add(f->stream_delta({0, "Hel", {}, {}, {}}));
    add(f->stream_delta({0, "lo", {}, {}, {}}));
    add(f->stream_finish({0, core::finish_reason::length, {}, 4, 0, 2}));
    completion_result result;
    result.choices.resize(1);
    result.prompt_tokens = 4;
    result.completion_tokens = 2;
    add(f->stream_end(result));
    std::vector<std::string> types;
    for (size_t i = 0; i < events.size(); ++i) {
        EXPECT_EQ(events[i]["sequence_number"], i);
        types.push_back(events[i]["type"]);
    }
    EXPECT_EQ(types,
              (std::vector<std::string>{"response.created", "response.in_progress",
                                        "response.output_item.added", "response.content_part.added",
                                        "response.output_text.delta", "response.output_text.delta",
                                        "response.output_text.done", "response.content_part.done",
                                        "response.output_item.done", "response.incomplete"}));
    const json& last = events.back()["response"];
    EXPECT_EQ(last["status"], "incomplete");
    EXPECT_EQ(last["incomplete_details"]["reason"], "max_output_tokens");
    EXPECT_EQ(last["output"][0]["content"][0]["text"], "Hello");
    EXPECT_EQ(last["usage"]["total_tokens"], 6);
}

// A tool call is a function_call item; the whole response and its
// conversation go to the keeper before the response is sent.
TEST(ResponsesFormat, KeepsTheResponseBeforeSendingIt) {
    auto r = parse_request(R"({"model": "m", "input": "x"})");
    ASSERT_TRUE(r);
    std::string kept;
    json conversation;
    auto f = make_formatter(*r, "m", json::array(),
                            [&](std::string, int64_t, std::string response, std::string items,
                                std::function<void()> then) {
                                kept = std::move(response);
                                conversation = json::parse(items);
                                then();
                            });
    completion_result result;
    result.choices.resize(1);
    result.choices[0].reason = core::finish_reason::tool_calls;
    result.choices[0].tool_calls = {{"call_1", "get_weather", R"({"city": "Paris"})", {}}};
    const json body = json::parse(f->response(result));
    bool sent = false;
    f->complete([&] { sent = true; });
    EXPECT_TRUE(sent);
    EXPECT_EQ(json::parse(kept), body);
    ASSERT_EQ(body["output"].size(), 1u);
    EXPECT_EQ(body["output"][0]["type"], "function_call");
    EXPECT_EQ(body["output"][0]["call_id"], "call_1");
    EXPECT_EQ(body["status"], "completed");
    ASSERT_EQ(conversation.size(), 2u);  // the input message, then the call
    EXPECT_EQ(conversation[1]["type"], "function_call");
}

}  // namespace
}  // namespace osprey::api::responses
