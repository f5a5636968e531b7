#pragma once

#include <string>

#include "core/chat_request.hpp"
#include "core/error.hpp"
#include "engine/model.hpp"

namespace osprey::engine {

// The GBNF grammar that holds every answer to `format` (empty for free
// text), built from the JSON schema by llama.cpp's converter and checked by
// compiling it for the model's vocabulary. Runs before the response starts.
// Errors: invalid_value, naming `format.param`, for a schema that cannot be
// enforced (a $ref that leads nowhere, a pattern the converter cannot read).
core::expected<std::string> output_grammar(const model& m, const core::output_format& format);

}  // namespace osprey::engine
