#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/formatter.hpp"
#include "core/error.hpp"

namespace osprey::api::openai {

// The error body every OpenAI route sends: {"error": {message, type, param, code}}.
std::string error_body(const core::error& e);

enum class endpoint { chat, completions };

std::unique_ptr<formatter> make_formatter(endpoint kind, std::string model, bool include_usage,
                                          bool with_logprobs);

}  // namespace osprey::api::openai
