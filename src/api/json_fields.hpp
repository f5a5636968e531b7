#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

// Typed reads of request fields. Each failure is a 400 that names the field
// in the API's own notation, so that the client can see what to fix.
namespace osprey::api {

using json = nlohmann::json;

// Deeper than any request the APIs define (a JSON schema for structured
// output included), shallow enough that no walk over it runs out of stack.
inline constexpr size_t max_json_depth = 64;

// Identifiers, roles, formats, names: nothing any API defines comes close.
inline constexpr size_t max_name_bytes = 4096;
// Free text: message content, stop sequences and the like. The prompt as a
// whole is checked against the context later; this bounds one field.
inline constexpr size_t max_text_bytes = size_t{8} << 20;
// URLs and data: URIs: the body's own size bounds them.
inline constexpr size_t unbounded_bytes = SIZE_MAX;

// Far more than any conversation that fits a context; the bounds keep a
// request of a hundred thousand empty messages from costing memory and time
// before the context check can refuse it.
inline constexpr size_t max_messages = 2048;
inline constexpr size_t max_content_parts = 256;

// Errors: invalid_json when the body is not strict JSON (see strict_json.hpp)
// or not an object.
core::expected<json> parse_body(const std::string& body);

// Reads the fields of one JSON object. A read that fails records its error
// (the first one wins) and returns nothing, so a parser reads every field in
// turn and checks `error()` once at the end.
class object_reader {
public:
    // `path` is the object's own name in error messages: "" for the body,
    // "messages[2]" for a message.
    object_reader(const json& object, std::string path);

    // Strings longer than `max_bytes` are refused, naming the field.
    std::optional<std::string> string(const char* key, size_t max_bytes = max_name_bytes);
    std::optional<bool> boolean(const char* key);
    std::optional<int64_t> integer(const char* key, int64_t min, int64_t max);
    std::optional<double> number(const char* key, double min, double max);
    // The value as it is, with only its presence checked (null counts as absent).
    const json* raw(const char* key);

    // Records a failure found by the caller.
    void fail(core::error e);
    // Records an unknown_parameter failure for the first key no read asked
    // for; `ignored` lists keys accepted without effect on generation.
    void reject_unread(const std::set<std::string>& ignored = {});

    // The full name of a field, for messages: "messages[2].role".
    std::string name(const char* key) const;
    const std::optional<core::error>& error() const { return error_; }

private:
    const json& object_;
    std::string path_;
    std::set<std::string> read_;
    std::optional<core::error> error_;
};

// The body's "messages": a non-empty array of at most max_messages. Returns
// nothing, with the failure recorded in `r`, for anything else.
const json* message_array(object_reader& r);

core::error missing_error(const std::string& param);
core::error type_error(const std::string& param, const char* expected);
core::error value_error(const std::string& param, const std::string& message);
core::error length_error(const std::string& param, size_t max_bytes);
core::error unsupported_error(const std::string& param, const std::string& message);

}  // namespace osprey::api
