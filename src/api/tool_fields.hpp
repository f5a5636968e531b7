#pragma once

#include <string>

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

// A call's arguments, as JSON text that must hold one object.
core::expected<void> check_call_arguments(const std::string& arguments, const std::string& param);

// A forced tool must be one of the request's tools.
core::expected<void> check_tool_choice(const core::chat_request& r, const std::string& param);

}  // namespace osprey::api
