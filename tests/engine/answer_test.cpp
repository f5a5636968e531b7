#include "engine/answer.hpp"

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/model.hpp"
#include "engine/prompt.hpp"

// The answer's syntax as llama.cpp reads it off the generated model's tools
// template (osprey-make-test-model --tools-template), and what the reader
// makes of answers in that syntax, fed a few bytes at a time as a stream is.
namespace osprey::engine {
namespace {

using json = nlohmann::json;

class AnswerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        initialize_backend();
        model_options o;
        o.model_path = OSPREY_TEST_TOOLS_MODEL;
        o.ctx_size = 1024;
        o.parallel = 1;
        o.threads = 1;
        auto m = model::load(o, nullptr);
        ASSERT_TRUE(m) << m.error().internal_detail;
        model_ = m->release();
    }

    static void TearDownTestSuite() {
        delete model_;
        model_ = nullptr;
    }

    static core::chat_request weather_request(core::tool_choice choice) {
        core::chat_request r;
        core::message user;
        user.parts.emplace_back();
        user.parts.back().text = "What is the weather in Paris?";
        r.messages.push_back(user);
        core::tool tool;
        tool.name = "get_weather";
        tool.description = "The weather in a city.";
        tool.parameters = R"({"type":"object","properties":{"city":{"type":"string"}}})";
        tool.param = "tools[0]";
        r.tools.push_back(tool);
        r.tool_choice = choice;
        r.tool_choice_name = choice == core::tool_choice::named ? "get_weather" : "";
        r.parallel_tool_calls = false;
        return r;
    }

    static prompt prepared(const core::chat_request& r) {
        auto p = prepare_prompt(*model_, r);
        EXPECT_TRUE(p) << p.error().public_message;
        return p ? std::move(*p) : prompt{};
    }

    // Feeds `answer` through a reader `step` bytes at a time; returns every
    // delta, the last from finish().
    static std::vector<core::text_delta> stream(answer_reader& reader, const std::string& answer,
                                                size_t step) {
        std::vector<core::text_delta> out;
        for (size_t at = 0; at < answer.size(); at += step) {
            core::text_delta raw;
            raw.text = answer.substr(at, step);
            out.push_back(reader.read(std::move(raw)));
        }
        out.push_back(reader.finish(0));
        return out;
    }

    static inline model* model_ = nullptr;
};

TEST_F(AnswerTest, ReadsReasoningTextAndACallApartAsTheyStream) {
    const prompt p = prepared(weather_request(core::tool_choice::automatic));
    ASSERT_TRUE(p.answer.needs_reading());
    EXPECT_TRUE(p.answer.reasoning);
    const std::string answer =
        "<think>\nIt is about weather.\n</think>\nLet me look.<tool_call>\n"
        R"({"name": "get_weather", "arguments": {"city": "Paris"}})"
        "\n</tool_call>";
    for (size_t step : {1, 3, 7, 1000}) {
        answer_reader reader(p.answer, "call_");
        std::string reasoning;
        std::string text;
        std::string arguments;
        std::vector<core::tool_call_delta> starts;
        for (const auto& d : stream(reader, answer, step)) {
            reasoning += d.reasoning;
            text += d.text;
            for (const auto& piece : d.tool_calls) {
                EXPECT_EQ(piece.call, 0);
                if (!piece.id.empty()) {
                    starts.push_back(piece);
                }
                arguments += piece.arguments;
            }
        }
        EXPECT_EQ(reasoning.find("It is about weather."), 0u) << step << ": " << reasoning;
        EXPECT_EQ(text, "Let me look.") << step;
        ASSERT_EQ(starts.size(), 1u) << step;
        EXPECT_EQ(starts[0].name, "get_weather");
        EXPECT_EQ(starts[0].id.rfind("call_", 0), 0u);
        EXPECT_EQ(json::parse(arguments), json::parse(R"({"city": "Paris"})")) << step;
        const auto& whole = reader.answer();
        ASSERT_EQ(whole.tool_calls.size(), 1u);
        EXPECT_EQ(whole.tool_calls[0].id, starts[0].id);
        EXPECT_EQ(json::parse(whole.tool_calls[0].arguments), json::parse(arguments));
        EXPECT_EQ(whole.text, "Let me look.");
    }
}

// An answer cut short inside a call (max_tokens) keeps the call as far as it
// got, as OpenAI's API does when a call runs out of tokens.
TEST_F(AnswerTest, ACallCutShortStaysACall) {
    const prompt p = prepared(weather_request(core::tool_choice::automatic));
    answer_reader reader(p.answer, "call_");
    stream(reader, "Sure.<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"ci", 4);
    EXPECT_EQ(reader.answer().text, "Sure.");
    ASSERT_EQ(reader.answer().tool_calls.size(), 1u);
    EXPECT_EQ(reader.answer().tool_calls[0].name, "get_weather");
    EXPECT_EQ(reader.answer().tool_calls[0].arguments.rfind("{", 0), 0u);
}

// Text that only looks like the start of a call, and is not, is text.
TEST_F(AnswerTest, TextThatIsNoCallIsText) {
    const prompt p = prepared(weather_request(core::tool_choice::automatic));
    answer_reader reader(p.answer, "call_");
    const std::string answer = "Use <tool and <tool_call> tags, said the cat.";
    std::string streamed;
    for (const auto& d : stream(reader, answer, 3)) {
        streamed += d.text;
        EXPECT_TRUE(d.tool_calls.empty());
    }
    EXPECT_TRUE(reader.answer().tool_calls.empty());
    EXPECT_EQ(reader.answer().text.rfind("Use <tool and", 0), 0u) << reader.answer().text;
    EXPECT_EQ(streamed, reader.answer().text);
}

// A forced call is held from the answer's first token, with nothing before
// it; a chosen one only from the call's opening.
TEST_F(AnswerTest, AForcedCallIsHeldFromTheFirstToken) {
    const prompt forced = prepared(weather_request(core::tool_choice::named));
    EXPECT_FALSE(forced.grammar.lazy);
    EXPECT_NE(forced.grammar.text.find("root ::= tool-call\n"), std::string::npos);
    const prompt chosen = prepared(weather_request(core::tool_choice::automatic));
    EXPECT_TRUE(chosen.grammar.lazy);
    EXPECT_FALSE(chosen.grammar.trigger_patterns.empty() && chosen.grammar.trigger_tokens.empty());
    const prompt none = prepared(weather_request(core::tool_choice::none));
    EXPECT_TRUE(none.grammar.empty());
    EXPECT_FALSE(none.answer.tools);
}

// Tool definitions are template text, where control tokens are read as such.
TEST_F(AnswerTest, RefusesControlTokenTextInATool) {
    auto r = weather_request(core::tool_choice::automatic);
    r.tools[0].description = "Weather </s><s> and more";
    auto p = prepare_prompt(*model_, r);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, core::error_code::invalid_value);
    EXPECT_EQ(p.error().param, "tools[0]");
}

}  // namespace
}  // namespace osprey::engine
