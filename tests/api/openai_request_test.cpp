#include "api/openai_request.hpp"

#include "api/json_fields.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace osprey::api::openai {
namespace {

core::error chat_error(const std::string& body) {
    auto r = parse_chat_request(body);
    EXPECT_FALSE(r) << body;
    return r ? core::error{} : r.error();
}

TEST(ParseChatRequest, ReadsEverySupportedField) {
    auto r = parse_chat_request(R"({
        "model": "m",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Dev"}]},
            {"role": "user", "content": "Hi", "name": "ann"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": [{"type": "text", "text": "a"},
                                         {"type": "text", "text": "b"}]}
        ],
        "max_completion_tokens": 12, "temperature": 0.5, "top_p": 0.9, "top_k": 40,
        "min_p": 0.05, "seed": 123, "stop": ["x", "y"], "presence_penalty": 0.5,
        "frequency_penalty": -0.5, "logprobs": true, "top_logprobs": 3, "n": 2,
        "stream": true, "stream_options": {"include_usage": true}, "user": "u1"
    })");
    ASSERT_TRUE(r) << r.error().public_message;
    EXPECT_EQ(r->model, "m");
    ASSERT_EQ(r->messages.size(), 5u);
    EXPECT_EQ(r->messages[1].role, core::role::developer);
    EXPECT_EQ(r->messages[4].parts.size(), 2u);
    EXPECT_EQ(r->max_tokens, 12);
    EXPECT_FLOAT_EQ(r->sampling.temperature, 0.5f);
    EXPECT_FLOAT_EQ(r->sampling.top_p, 0.9f);
    EXPECT_EQ(r->sampling.top_k, 40);
    EXPECT_EQ(r->sampling.seed, 123u);
    EXPECT_EQ(r->stop, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(r->top_logprobs, 3);
    EXPECT_EQ(r->n, 2);
    EXPECT_TRUE(r->stream);
    EXPECT_TRUE(r->include_usage);
}

TEST(ParseChatRequest, ReadsResponseFormats) {
    auto parse = [](const std::string& format) {
        return parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}],)"
                                  R"("response_format":)" +
                                  format + "}");
    };
    auto text = parse(R"({"type":"text"})");
    ASSERT_TRUE(text);
    EXPECT_EQ(text->output.kind, core::output_kind::text);
    auto object = parse(R"({"type":"json_object"})");
    ASSERT_TRUE(object);
    EXPECT_EQ(object->output.kind, core::output_kind::json_object);
    auto schema = parse(R"({"type":"json_schema","json_schema":{"name":"a-1","strict":true,)"
                        R"("description":"d","schema":{"type":"object","required":[]}}})");
    ASSERT_TRUE(schema) << schema.error().public_message;
    EXPECT_EQ(schema->output.kind, core::output_kind::json_schema);
    EXPECT_EQ(nlohmann::json::parse(schema->output.schema),
              nlohmann::json::parse(R"({"type":"object","required":[]})"));
    EXPECT_EQ(schema->output.schema_param, "response_format.json_schema.schema");
    // No schema: any JSON value.
    auto any = parse(R"({"type":"json_schema","json_schema":{"name":"a"}})");
    ASSERT_TRUE(any);
    EXPECT_EQ(any->output.schema, "{}");
    // The schema's own faults name their keyword, under the field's path.
    auto bad = parse(R"({"type":"json_schema","json_schema":{"name":"a",)"
                     R"("schema":{"properties":{"n":{"type":"string","pattern":"x"}}}}})");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, core::error_code::unsupported_parameter);
    EXPECT_EQ(bad.error().param, "response_format.json_schema.schema.properties.n.pattern");
    for (const char* format :
         {R"({"type":"json_schema"})", R"({"type":"json_schema","json_schema":{"schema":{}}})",
          R"({"type":"json_schema","json_schema":{"name":"a b"}})",
          R"({"type":"json_schema","json_schema":{"name":"a","x":1}})"}) {
        EXPECT_FALSE(parse(format)) << format;
    }
}

// Tools, a named tool choice, and a conversation that called one.
TEST(ParseChatRequest, ReadsToolsAndToolTurns) {
    auto r = parse_chat_request(R"({"model": "m",
        "tools": [{"type": "function", "function": {"name": "get_weather",
                   "description": "Weather.", "strict": true,
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": false,
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1",
             "type": "function", "function": {"name": "get_weather",
             "arguments": "{\"city\": \"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]})");
    ASSERT_TRUE(r) << r.error().public_message;
    ASSERT_EQ(r->tools.size(), 1u);
    EXPECT_EQ(r->tools[0].name, "get_weather");
    EXPECT_EQ(r->tools[0].param, "tools[0]");
    EXPECT_EQ(r->tool_choice, core::tool_choice::named);
    EXPECT_EQ(r->tool_choice_name, "get_weather");
    EXPECT_FALSE(r->parallel_tool_calls);
    ASSERT_EQ(r->messages.size(), 3u);
    ASSERT_EQ(r->messages[1].tool_calls.size(), 1u);
    EXPECT_EQ(r->messages[1].tool_calls[0].arguments, R"({"city": "Paris"})");
    EXPECT_EQ(r->messages[1].tool_calls[0].param, "messages[1].tool_calls[0]");
    EXPECT_EQ(r->messages[2].role, core::role::tool);
    EXPECT_EQ(r->messages[2].tool_call_id, "call_1");
}

TEST(ParseChatRequest, ReadsLogitBias) {
    auto r = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}],
        "logit_bias":{"2":-100,"300":5.5}})");
    ASSERT_TRUE(r) << r.error().public_message;
    const std::vector<std::pair<int32_t, float>> expected = {{2, -100.0f}, {300, 5.5f}};
    EXPECT_EQ(r->sampling.logit_bias, expected);
    for (const char* bad : {R"("x")", R"({"a":1})", R"({"-1":1})", R"({"1":101})", R"({"1":"5"})",
                            R"({"12345678901":1})"}) {
        auto e = parse_chat_request(
            std::string(
                R"({"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":)") +
            bad + "}");
        ASSERT_FALSE(e) << bad;
        EXPECT_EQ(e.error().param, "logit_bias") << bad;
    }
}

TEST(ParseChatRequest, DefaultsMatchOpenAi) {
    auto r = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
    ASSERT_TRUE(r);
    EXPECT_FLOAT_EQ(r->sampling.temperature, 1.0f);
    EXPECT_FALSE(r->max_tokens);
    EXPECT_EQ(r->top_logprobs, -1);
    EXPECT_EQ(r->n, 1);
    EXPECT_FALSE(r->stream);
}

TEST(ParseChatRequest, StopMayBeAString) {
    auto r = parse_chat_request(
        R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":"END"})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->stop, std::vector<std::string>{"END"});
}

TEST(ParseChatRequest, MalformedJsonIsInvalidJson) {
    EXPECT_EQ(chat_error("{\"model\": ").code, core::error_code::invalid_json);
    EXPECT_EQ(chat_error("[1,2]").code, core::error_code::invalid_json);
}

TEST(ParseChatRequest, NamesTheFieldOfEachBadInput) {
    struct bad_case {
        const char* body;
        core::error_code code;
        const char* param;
    };
    const bad_case cases[] = {
        {R"({"messages":[{"role":"user","content":"x"}]})", core::error_code::missing_parameter,
         "model"},
        {R"({"model":"m"})", core::error_code::missing_parameter, "messages"},
        {R"({"model":"m","messages":"hi"})", core::error_code::invalid_type, "messages"},
        {R"({"model":"m","messages":[]})", core::error_code::invalid_value, "messages"},
        {R"({"model":"m","messages":[{"role":"wizard","content":"x"}]})",
         core::error_code::invalid_value, "messages[0].role"},
        {R"({"model":"m","messages":[{"content":"x"}]})", core::error_code::missing_parameter,
         "messages[0].role"},
        {R"({"model":"m","messages":[{"role":"user","content":5}]})",
         core::error_code::invalid_type, "messages[0].content"},
        {R"({"model":"m","messages":[{"role":"user","content":[{"type":"file"}]}]})",
         core::error_code::unsupported_parameter, "messages[0].content[0].type"},
        {R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"hot"})",
         core::error_code::invalid_type, "temperature"},
        {R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":3})",
         core::error_code::invalid_value, "temperature"},
        {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0})",
         core::error_code::invalid_value, "max_tokens"},
        {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":2.5})",
         core::error_code::invalid_type, "max_tokens"},
        {R"({"model":"m","messages":[{"role":"user","content":"x"}],"n":9})",
         core::error_code::invalid_value, "n"},
        {R"({"model":"m","messages":[{"role":"user","content":"x"}],"top_logprobs":2})",
         core::error_code::invalid_value, "top_logprobs"},
        {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]})",
         core::error_code::invalid_value, "stop"},
        {R"({"model":"m","messages":[{"role":"user","content":"x"}],
             "tools":[{"type":"custom","custom":{}}]})",
         core::error_code::unsupported_parameter, "tools[0].type"},
        {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"any"})",
         core::error_code::invalid_value, "tool_choice"},
        {R"({"model":"m","messages":[{"role":"tool","content":"x"}]})",
         core::error_code::missing_parameter, "messages[0].tool_call_id"},
        {R"({"model":"m","messages":[{"role":"user","content":"x"}],
             "response_format":{"type":"xml"}})",
         core::error_code::invalid_value, "response_format.type"},
        {R"({"model":"m","messages":[{"role":"user","content":"x"}],
             "response_format":{"type":"json_schema","json_schema":{"name":"a",
             "schema":{"type":"integer","minimum":5,"maximum":3}}}})",
         core::error_code::invalid_value, "response_format.json_schema.schema"},
        {R"({"model":"m","messages":[{"role":"user","content":"x"}],"frobnicate":1})",
         core::error_code::unknown_parameter, "frobnicate"},
        {R"({"model":"m","messages":[{"role":"function","content":"x"}]})",
         core::error_code::unsupported_parameter, "messages[0].role"},
        {R"({"model":"m","messages":[{"role":"user","content":"x"}],
             "stream_options":{"include_usage":1}})",
         core::error_code::invalid_type, "stream_options.include_usage"},
    };
    for (const auto& c : cases) {
        const core::error e = chat_error(c.body);
        EXPECT_EQ(e.code, c.code) << c.body << " -> " << e.public_message;
        EXPECT_EQ(e.param, c.param) << c.body;
        EXPECT_NE(e.public_message.find(c.param), std::string::npos) << e.public_message;
    }
}

TEST(ParseChatRequest, RefusesAFloatSeedPastInt64) {
    // Regression: 2^63 as a double passed the range check and was then cast,
    // which is undefined behaviour.
    auto r = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}],
                                    "seed":9223372036854775808.0})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().param, "seed");
}

// A NUL byte in a key is refused while parsing, naming the object it is in.
TEST(ParseChatRequest, RefusesAKeyWithANulByte) {
    auto r = parse_chat_request(
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\","
        "\"a\\u0000b\":1}]}");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::error_code::invalid_json);
    EXPECT_EQ(r.error().param, "messages[0]");
}

TEST(ParseChatRequest, ResponseFormatTextIsAccepted) {
    EXPECT_TRUE(parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}],
                                       "response_format":{"type":"text"}})"));
}

TEST(ParseCompletionRequest, ReadsPromptAndDefaultsToSixteenTokens) {
    auto r = parse_completion_request(R"({"model":"m","prompt":"Once"})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->prompt, "Once");
    EXPECT_EQ(r->max_tokens, 16);
    EXPECT_TRUE(r->messages.empty());
}

TEST(ParseCompletionRequest, LogprobsIsACount) {
    auto r = parse_completion_request(R"({"model":"m","prompt":["Once"],"logprobs":2})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->top_logprobs, 2);
}

TEST(ParseCompletionRequest, RefusesWhatItCannotHonour) {
    auto echo = parse_completion_request(R"({"model":"m","prompt":"x","echo":true})");
    ASSERT_FALSE(echo);
    EXPECT_EQ(echo.error().param, "echo");
    EXPECT_TRUE(parse_completion_request(R"({"model":"m","prompt":"x","echo":false})"));
    auto tokens = parse_completion_request(R"({"model":"m","prompt":[1,2,3]})");
    ASSERT_FALSE(tokens);
    EXPECT_EQ(tokens.error().param, "prompt");
    auto missing = parse_completion_request(R"({"model":"m"})");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, core::error_code::missing_parameter);
}

}  // namespace
}  // namespace osprey::api::openai

namespace osprey::api::openai {
namespace {

TEST(ParseChatRequest, ReadsMediaPartsForTheGate) {
    auto r = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":[
        {"type":"text","text":"Look"},
        {"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"low"}},
        {"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}},
        {"type":"video_url","video_url":{"url":"https://example.com/v.mp4"}}]}]})");
    ASSERT_TRUE(r) << r.error().public_message;
    const auto& parts = r->messages[0].parts;
    ASSERT_EQ(parts.size(), 4u);
    EXPECT_EQ(parts[1].kind, core::part_kind::image);
    EXPECT_EQ(parts[1].source, "https://example.com/a.png");
    EXPECT_EQ(parts[1].param, "messages[0].content[1].image_url.url");
    EXPECT_EQ(parts[2].kind, core::part_kind::audio);
    EXPECT_EQ(parts[2].source, "data:audio/wav;base64,UklGRg==");
    EXPECT_EQ(parts[3].kind, core::part_kind::video);
}

// Some clients send {"type": "image", "image": <url>}, for video and audio too.
TEST(ParseChatRequest, ReadsPlainMediaParts) {
    auto r = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":[
        {"type":"image","image":"https://example.com/a.png"},
        {"type":"video","video":{"url":"https://example.com/v.mp4"}},
        {"type":"audio","audio":"data:audio/wav;base64,UklGRg=="}]}]})");
    ASSERT_TRUE(r) << r.error().public_message;
    const auto& parts = r->messages[0].parts;
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[0].kind, core::part_kind::image);
    EXPECT_EQ(parts[0].source, "https://example.com/a.png");
    EXPECT_EQ(parts[0].param, "messages[0].content[0].image");
    EXPECT_EQ(parts[1].kind, core::part_kind::video);
    EXPECT_EQ(parts[1].param, "messages[0].content[1].video.url");
    EXPECT_EQ(parts[2].kind, core::part_kind::audio);
    EXPECT_EQ(parts[2].source, "data:audio/wav;base64,UklGRg==");
}

TEST(ParseChatRequest, NamesTheFieldOfABadMediaPart) {
    struct bad_case {
        const char* part;
        const char* param;
    };
    const bad_case cases[] = {
        {R"({"type":"image_url"})", "messages[0].content[0].image_url"},
        {R"({"type":"image_url","image_url":"https://x.com/a.png"})",
         "messages[0].content[0].image_url"},
        {R"({"type":"image_url","image_url":{}})", "messages[0].content[0].image_url.url"},
        {R"({"type":"image_url","image_url":{"url":"https://x.com/a","detail":"max"}})",
         "messages[0].content[0].image_url.detail"},
        {R"({"type":"input_audio","input_audio":{"data":"AAAA"}})",
         "messages[0].content[0].input_audio.format"},
        {R"({"type":"image_url","image_url":{"url":"https://x.com/a"},"extra":1})",
         "messages[0].content[0].extra"},
        // The format lands in a data: URI, so it is one of a few names.
        {R"({"type":"input_audio","input_audio":{"data":"AAAA","format":"wav,AAAA"}})",
         "messages[0].content[0].input_audio.format"},
        {R"({"type":"image"})", "messages[0].content[0].image"},
        {R"({"type":"video","video":3})", "messages[0].content[0].video"},
        {R"({"type":"audio","audio":{"href":"x"}})", "messages[0].content[0].audio.url"},
    };
    for (const auto& c : cases) {
        const std::string body =
            std::string(R"({"model":"m","messages":[{"role":"user","content":[)") + c.part + "]}]}";
        auto r = parse_chat_request(body);
        ASSERT_FALSE(r) << c.part;
        EXPECT_EQ(r.error().param, c.param) << c.part;
    }
}

}  // namespace
}  // namespace osprey::api::openai

namespace osprey::api::openai {
namespace {

std::string with_messages(const std::string& messages) {
    return R"({"model":"m","messages":)" + messages + "}";
}

// Each bound is its own 400, naming the field, before any work is done.
TEST(ParseChatRequest, RefusesRequestsPastTheirLimits) {
    std::string many = "[";
    for (int i = 0; i < 2049; ++i) {
        many += std::string(i ? "," : "") + R"({"role":"user","content":""})";
    }
    auto r = parse_chat_request(with_messages(many + "]"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().param, "messages");

    std::string parts = "[";
    for (int i = 0; i < 257; ++i) {
        parts += std::string(i ? "," : "") + R"({"type":"text","text":"a"})";
    }
    r = parse_chat_request(with_messages(R"([{"role":"user","content":)" + parts + "]}]"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().param, "messages[0].content");

    const std::string long_text(max_text_bytes + 1, 'a');
    r = parse_chat_request(with_messages(R"([{"role":"user","content":")" + long_text + "\"}]"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().param, "messages[0].content");
    EXPECT_EQ(r.error().public_message,
              "Invalid value for 'messages[0].content': at most 8388608 bytes.");

    r = parse_chat_request(R"({"model":")" + std::string(5000, 'm') +
                           R"(","messages":[{"role":"user","content":"x"}]})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().param, "model");

    r = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":")" +
                           std::string(5000, 's') + "\"}");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().param, "stop");

    auto c = parse_completion_request(R"({"model":"m","prompt":")" + long_text + "\"}");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().param, "prompt");
}

TEST(ParseChatRequest, RefusesDuplicateKeysAndDeepNesting) {
    auto r = parse_chat_request(R"({"model":"m","model":"n","messages":[]})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::error_code::invalid_json);
    EXPECT_EQ(r.error().param, "model");
    r = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}],"x":)" +
                           std::string(100, '[') + std::string(100, ']') + "}");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::error_code::invalid_json);
}

}  // namespace
}  // namespace osprey::api::openai
