#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/json_fields.hpp"
#include "core/chat_request.hpp"
#include "core/error.hpp"

// The parts of tool use that every API shares: how a tool's name, its
// parameter schema and a call's arguments are checked, whichever API's
// notation they arrive in.
namespace osprey::api {

// More than any agent offers at once; each tool's schema becomes grammar
// rules, which this keeps within what compiles in milliseconds.
inline constexpr size_t max_tools = 64;

// A tool's name: 1 to `max_bytes` letters, digits, '_' or '-', as both
// OpenAI and Anthropic define it.
core::expected<void> check_tool_name(const std::string& name, size_t max_bytes,
                                     const std::string& param);

// A tool's parameter schema, checked as an output schema is (the grammar for
// its calls is built from it) and required to describe an object. Absent
// (null), it is an object with any properties. Returns the schema as JSON text.
core::expected<std::string> read_tool_schema(const json* schema, const std::string& param);

// The body's "tools": an array of at most max_tools objects. `read_one` reads
// each (its reader, and the tool to fill, whose `param` is set); a tool whose
// name an earlier one has is refused, naming `path + name_field`. Failures
// are recorded in `r`.
void read_tool_array(object_reader& r, std::vector<core::tool>& out, const char* name_field,
                     const std::function<void(object_reader&, core::tool&)>& read_one);

// A function tool's name (1 to `max_name_bytes`), description and parameter
// schema (under `schema_key`, absent allowed unless `schema_required`), read
// from the object that holds them. Failures are recorded in `r`.
void read_function_fields(object_reader& r, size_t max_name_bytes, const char* schema_key,
                          bool schema_required, core::tool& tool);

// A call's arguments, as JSON text that must hold one object.
core::expected<void> check_call_arguments(const std::string& arguments, const std::string& param);

// A forced tool must be one of the request's tools.
core::expected<void> check_tool_choice(const core::chat_request& r, const std::string& param);

}  // namespace osprey::api
