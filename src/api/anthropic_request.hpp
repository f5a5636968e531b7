#pragma once

#include <string>

#include "core/chat_request.hpp"
#include "core/error.hpp"

// Maps Anthropic Messages request bodies onto the canonical request. As with
// the OpenAI adapter, every field the API defines is honoured, accepted as
// having no effect on generation (`metadata`, `cache_control`), or refused
// with a 400 that names it; fields the API does not define are refused too.
namespace osprey::api::anthropic {

inline constexpr int32_t max_stop_sequences = 16;

// POST /v1/messages
core::expected<core::chat_request> parse_messages_request(const std::string& body);

// POST /v1/messages/count_tokens: the same conversation, without the
// generation parameters.
core::expected<core::chat_request> parse_count_tokens_request(const std::string& body);

}  // namespace osprey::api::anthropic
