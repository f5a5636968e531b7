#pragma once

#include <cstdint>
#include <vector>

#include "core/chat_request.hpp"
#include "core/error.hpp"

namespace osprey::engine {

class model;

// Renders a request's messages with the model's chat template (or takes its
// raw prompt) and tokenizes the result. Thread-safe: reads only the model's
// vocabulary and templates, so it runs off the engine thread.
//
// Errors: context_length_exceeded when the prompt, or the prompt plus
// max_tokens, does not fit one sequence's context; invalid_value for an empty
// prompt; internal when the template fails to render.
core::expected<std::vector<int32_t>> prepare_prompt(const model& m, const core::chat_request& r);

}  // namespace osprey::engine
