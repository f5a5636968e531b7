#pragma once

#include <string>

#include "core/chat_request.hpp"
#include "core/error.hpp"
#include "engine/model.hpp"

namespace osprey::engine {

// The GBNF grammar that holds every answer to `format`: empty for free text,
// any JSON object for json_object (built by llama.cpp's JSON-schema
// converter from {"type": "object"}, and checked by compiling it for the
// model's vocabulary).
core::expected<std::string> output_grammar(const model& m, const core::output_format& format);

}  // namespace osprey::engine
