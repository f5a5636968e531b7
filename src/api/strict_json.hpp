#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace osprey::api {

// Parses a request body more strictly than JSON allows a parser to be lax:
// a key twice in one object (which parsers resolve differently, so a proxy
// and osprey could read different requests), a NUL byte in a key, and
// nesting deeper than `max_depth` are refused, as are invalid UTF-8 and
// lone UTF-16 surrogates. The depth limit also keeps every later walk over
// the value shallow.
//
// Errors: invalid_json, saying what is wrong and where (a byte offset, or
// the path of a duplicate key in `param`); never the body's own bytes.
core::expected<nlohmann::json> parse_strict_json(const std::string& body, size_t max_depth);

}  // namespace osprey::api
