#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/formatter.hpp"
#include "core/error.hpp"

namespace osprey::api::anthropic {

// The error body every Anthropic route sends:
// {"type": "error", "error": {type, message}, "request_id"}.
std::string error_body(const core::error& e, const std::string& request_id);

// A Message, or the event stream that builds one: message_start,
// content_block_start, ping, content_block_delta..., content_block_stop,
// message_delta, message_stop. Anthropic's API has one choice per request.
std::unique_ptr<formatter> make_formatter(std::string model);

// The answer of /v1/messages/count_tokens.
std::string count_tokens_body(int32_t input_tokens);

}  // namespace osprey::api::anthropic
