#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

// The JSON schemas a client may give for structured output. llama.cpp turns a
// schema into a grammar that every token must follow; its converter and
// grammar engine trust the schema, and a small hostile one drives them into a
// crash ({"type": "integer", "minimum": 5, "maximum": 3}), unbounded memory
// ("minLength": 3, "maxLength": 2) or minutes of CPU (hundreds of optional
// properties). So a schema is checked here first: only keywords osprey can
// honour, each within bounds that keep the grammar small, every bound
// consistent. Anything else is a 400 that names the keyword.
namespace osprey::api {

struct schema_limits {
    static constexpr size_t max_depth = 10;         // nested schemas
    static constexpr size_t max_nodes = 256;        // schemas in all
    static constexpr size_t max_properties = 64;    // per object
    static constexpr size_t max_branches = 16;      // anyOf / oneOf, prefixItems
    static constexpr size_t max_enum_values = 256;  // per enum
    static constexpr int64_t max_string_length = 256;
    static constexpr int64_t max_array_items = 64;
    static constexpr double max_integer_magnitude = 1e15;
};

// Checks `schema`, whose name in error messages is `path`
// ("response_format.json_schema.schema"). Errors: invalid_type or
// invalid_value for a malformed or inconsistent schema,
// unsupported_parameter for a keyword osprey does not take; `param` names
// the keyword's path.
core::expected<void> check_output_schema(const nlohmann::json& schema, const std::string& path);

}  // namespace osprey::api
