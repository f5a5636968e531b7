#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/events.hpp"

namespace osprey::engine {

// Turns one choice's token pieces into text that is safe to send: it holds
// back bytes that may be the start of a stop sequence, and bytes of a UTF-8
// character that has not been completed yet. The logprobs of a token go out
// with the chunk that completes that token's text.
//
// Not thread-safe; each choice owns one, on the engine thread.
class text_stream {
public:
    struct output {
        std::string text;
        std::vector<core::token_logprob> logprobs;
    };

    explicit text_stream(std::vector<std::string> stop);

    // Adds one token's bytes. Returns what can be sent now, possibly nothing.
    // Once a stop sequence appears, returns the text before it and `stopped()`
    // turns true; the stop sequence itself is never sent.
    output push(std::string_view piece, std::optional<core::token_logprob> logprob);

    // Everything still held back, at the end of the choice.
    output flush();

    bool stopped() const { return stopped_; }
    // The stop sequence that was found: the earliest in the text, and of
    // those starting at the same byte, the first one the client listed.
    const std::string& matched() const { return matched_; }

private:
    std::size_t held_for_stop() const;
    output take(std::size_t bytes);

    std::vector<std::string> stop_;
    std::string pending_;
    // Each held token's logprob, with the offset in `pending_` where its bytes end.
    std::vector<std::pair<std::size_t, core::token_logprob>> pending_logprobs_;
    bool stopped_ = false;
    std::string matched_;
};

}  // namespace osprey::engine
