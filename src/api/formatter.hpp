#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "api/exchange.hpp"
#include "core/chat_request.hpp"
#include "core/error.hpp"
#include "core/events.hpp"

namespace osprey::api {

struct choice_result {
    std::string text;
    std::string reasoning;
    std::vector<core::tool_call> tool_calls;
    std::vector<core::token_logprob> logprobs;
    core::finish_reason reason = core::finish_reason::stop;
    std::string stop_sequence;
};

struct completion_result {
    std::vector<choice_result> choices;
    int32_t prompt_tokens = 0;
    int32_t cached_tokens = 0;  // of the prompt, reused from an earlier request (first choice)
    int32_t completion_tokens = 0;
};

// Shapes one request's generation into one API's JSON: a whole body, or the
// payloads of its SSE events. One instance per request; it holds the
// response's id, creation time and model name so every chunk agrees.
class formatter {
public:
    virtual ~formatter() = default;

    virtual std::string response(const completion_result& result) const = 0;

    // What the ids of the model's tool calls start with, in this API.
    virtual std::string tool_call_id_prefix() const { return "call_"; }

    // Called before the stream starts when the answer is read apart into
    // text, reasoning and tool calls (engine/answer.hpp), so that its parts
    // may come in any order.
    virtual void expect_parts() {}

    // Runs `send` once whatever the API keeps of the whole response is kept
    // (the Responses API's store); at once, by default. Called after
    // response() or stream_end(); `send` may run on any thread.
    virtual void complete(std::function<void()> send) { send(); }

    // Events sent once the stream starts, before any text, for `n` choices
    // of a prompt of `prompt_tokens` tokens.
    virtual std::vector<stream_event> stream_start(int32_t n, int32_t prompt_tokens) = 0;
    virtual std::vector<stream_event> stream_delta(const core::text_delta& delta) = 0;
    virtual std::vector<stream_event> stream_finish(const core::choice_finished& finished) = 0;
    // Events after the last choice has finished (usage, the end marker).
    virtual std::vector<stream_event> stream_end(const completion_result& result) = 0;
    // An error after the stream has started: the events that end the stream.
    virtual std::vector<stream_event> stream_error(const core::error& e) const = 0;
};

}  // namespace osprey::api
