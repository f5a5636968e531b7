#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/chat_request.hpp"
#include "core/error.hpp"

// Maps OpenAI request bodies onto the canonical request. Every field the API
// defines is either honoured, accepted as having no effect on generation
// (`user`, `metadata`, `store`, `service_tier`), or refused with a 400 that
// names it; fields the API does not define are refused too.
namespace osprey::api::openai {

// Upper bound for `n`: each choice takes a sequence of its own.
inline constexpr int32_t max_choices = 8;
inline constexpr int32_t max_top_logprobs = 20;
inline constexpr int32_t max_stop_sequences = 4;

// POST /v1/chat/completions
core::expected<core::chat_request> parse_chat_request(const std::string& body);

// POST /v1/completions
core::expected<core::chat_request> parse_completion_request(const std::string& body);

}  // namespace osprey::api::openai
