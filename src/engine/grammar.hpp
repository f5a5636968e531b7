#pragma once

#include <string>

#include "core/chat_request.hpp"
#include "core/error.hpp"
#include "engine/model.hpp"

namespace osprey::engine {

// The GBNF grammar that holds every answer to `format`: empty for free text,
// any JSON object for json_object, the client's schema for json_schema (built
// by llama.cpp's JSON-schema converter, and checked by compiling it for the
// model's vocabulary). Errors: invalid_value naming the schema when a
// json_schema cannot be converted or compiled; internal for json_object.
core::expected<std::string> output_grammar(const model& m, const core::output_format& format);

// The conversion step alone, without compiling for a vocabulary: what the
// output_schema fuzz target drives. Same errors as output_grammar.
core::expected<std::string> schema_grammar(const core::output_format& format);

}  // namespace osprey::engine
