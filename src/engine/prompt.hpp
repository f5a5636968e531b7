#pragma once

#include <cstdint>
#include <vector>

#include "core/chat_request.hpp"
#include "core/error.hpp"
#include "engine/answer.hpp"
#include "engine/media_input.hpp"
#include "engine/multimodal.hpp"

namespace osprey::engine {

class model;

// A tokenized prompt: text tokens, with the projector's media chunks between
// them at the places the client put its media.
struct prompt {
    std::vector<int32_t> tokens;
    std::vector<media_chunk> media;  // in order of `at`
    answer_syntax answer;            // how the answer is read (chat requests)
    grammar_spec grammar;            // what holds a tool call (requests with tools)

    // Text and media tokens together: what a sequence holds and usage counts.
    size_t n_tokens() const;
};

// What a prompt is prepared for: to be generated from, or only to be counted
// (which needs neither the context check nor the projector's encoding).
enum class prompt_use { generate, count };

// Renders a request's messages with the model's chat template (or takes its
// raw prompt) and tokenizes the result. Thread-safe: reads only the model's
// vocabulary and templates, so it runs off the engine thread.
//
// `media` holds what each media part of the messages becomes, in the order
// the parts appear; each is decoded (or found in the model's embedding cache)
// and tokenized with the model's projector.
//
// Errors: context_length_exceeded when the prompt, or the prompt plus
// max_tokens, does not fit one sequence's context (for counting, only when
// the prompt's bytes alone are far past it); invalid_value for an empty
// prompt or media that cannot be decoded (naming the part); internal when
// the template fails to render.
core::expected<prompt> prepare_prompt(const model& m, const core::chat_request& r,
                                      const std::vector<media_expansion>& media = {},
                                      prompt_use use = prompt_use::generate);

}  // namespace osprey::engine
