#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "core/error.hpp"

// What the engine emits while it generates, for the adapters to shape into
// their API's JSON or SSE events. Every text is whole UTF-8: the engine holds
// back a character's bytes until the character is complete.
namespace osprey::core {

struct token_alternative {
    std::string token;
    float logprob = 0.0f;
};

struct token_logprob {
    std::string token;  // the token's bytes as text; may be part of a character
    float logprob = 0.0f;
    std::vector<token_alternative> top;
};

// A piece of a tool call as it streams: the first piece of call `call`
// carries its id and name, later ones more of its arguments' JSON text.
struct tool_call_delta {
    int32_t call = 0;
    std::string id;
    std::string name;
    std::string arguments;
};

// New text for one choice, and the logprobs of the tokens that produced it.
// From the engine, `text` is all the model wrote. Where the model's template
// sets reasoning or tool calls apart, the adapter reads them out of it
// (engine/answer_reader.hpp) into `reasoning` and `tool_calls`, leaving the
// answer's own text in `text`.
struct text_delta {
    int32_t index = 0;
    std::string text;
    std::vector<token_logprob> logprobs;
    std::string reasoning;
    std::vector<tool_call_delta> tool_calls;
};

// tool_calls: the answer ended with calls to the client's tools.
enum class finish_reason { stop, length, tool_calls };

const char* name(finish_reason r);

// The last event of one choice.
struct choice_finished {
    int32_t index = 0;
    core::finish_reason reason = finish_reason::stop;
    std::string stop_sequence;  // the client's stop sequence that ended it, if one did
    int32_t prompt_tokens = 0;
    int32_t cached_tokens = 0;  // of the prompt tokens, those reused from an earlier request
    int32_t completion_tokens = 0;
};

// The choice could not finish; the error's public message may be sent.
struct choice_failed {
    int32_t index = 0;
    core::error error;
};

using event = std::variant<text_delta, choice_finished, choice_failed>;

// Receives the events of one request. `on_event` is called on the engine's
// thread and must not block: implementations hand the event to their own
// executor. `cancel` may be called from any thread; the engine then frees the
// request's sequences before its next decode step and sends nothing more.
class event_sink {
public:
    virtual ~event_sink() = default;
    virtual void on_event(event e) = 0;

    void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
    bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

private:
    std::atomic<bool> cancelled_{false};
};

}  // namespace osprey::core
