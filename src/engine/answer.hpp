#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/chat_request.hpp"
#include "core/events.hpp"

// How a chat answer is held and read when the model's template gives it more
// than text: reasoning set apart, or calls to the client's tools. Both come
// from llama.cpp's chat support for the template (common/chat.h), when the
// prompt is rendered.
namespace osprey::engine {

// A grammar the answer must follow, and from where.
struct grammar_spec {
    std::string text;  // GBNF; empty: the answer is free
    // Lazy: the grammar holds from the first trigger on (a tool call's
    // opening), and the text before it is free.
    bool lazy = false;
    std::vector<std::string> trigger_patterns;  // regular expressions over the answer
    std::vector<int32_t> trigger_tokens;

    bool empty() const { return text.empty(); }
};

// How to read the model's answer apart into text, reasoning and tool calls.
struct answer_syntax {
    std::string parser;             // llama.cpp's parser for the template, saved
    std::string generation_prompt;  // what the prompt ends with, which the parser expects first
    int32_t format = 0;             // llama.cpp's common_chat_format
    bool reasoning = false;         // the template sets reasoning apart
    bool tools = false;             // the request offers tools
    // Tokens that the template writes as markers (<tool_call>, <think>) and
    // that the answer's text must keep, though they are control tokens.
    std::vector<int32_t> preserved_tokens;

    bool needs_reading() const { return !parser.empty() && (reasoning || tools); }
};

// What one choice's answer held once read whole.
struct read_answer {
    std::string text;
    std::string reasoning;
    std::vector<core::tool_call> tool_calls;
};

// Reads one choice's answer as it streams. Each raw delta from the engine
// goes in; out come the pieces that are now certain: text, reasoning, and
// tool calls (a call's id and name first, then its arguments' JSON text).
// Whatever the parser still holds back (a tool call's opening, half written)
// waits for more text. Not thread-safe: one per choice, on one strand.
class answer_reader {
public:
    // Tool call ids the model does not write itself start with `id_prefix`.
    answer_reader(const answer_syntax& syntax, std::string id_prefix);
    ~answer_reader();
    answer_reader(const answer_reader&) = delete;
    answer_reader& operator=(const answer_reader&) = delete;

    // The delta's raw text in; what it adds out, logprobs passed through.
    core::text_delta read(core::text_delta raw);

    // At the choice's end: the pieces still held back, read with the whole
    // answer known. An answer the parser cannot read is all text.
    core::text_delta finish(int32_t index);

    // The whole answer: as streamed so far, and after finish() the parser's
    // final reading of it.
    const read_answer& answer() const { return sent_; }

private:
    struct parser;
    void emit(const read_answer& parsed, bool final, core::text_delta& out);

    std::unique_ptr<parser> parser_;
    const std::string id_prefix_;
    std::string raw_;
    read_answer sent_;
};

}  // namespace osprey::engine
