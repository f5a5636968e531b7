#pragma once

#include <string>

#include <tl/expected.hpp>

namespace osprey::core {

// Stable error codes. Each maps to one HTTP status here and to one error type
// in each API's own shape (see src/api); the code is what tests and clients
// can rely on, the messages are not.
enum class error_code {
    invalid_json,             // 400: the body is not JSON
    invalid_type,             // 400: a field has the wrong JSON type
    invalid_value,            // 400: a field is out of range or not allowed
    missing_parameter,        // 400: a required field is absent
    unsupported_parameter,    // 400: a known field that osprey cannot honour
    unknown_parameter,        // 400: a field the API does not define
    context_length_exceeded,  // 400: the prompt does not fit the context
    media_unavailable,        // 400: remote or local media refused or not fetched
    unauthorized,             // 401
    not_found,                // 404: no such route
    model_not_found,          // 404
    response_not_found,       // 404: no stored response has the id
    method_not_allowed,       // 405
    payload_too_large,        // 413
    headers_too_large,        // 431
    uri_too_long,             // 414
    unsupported_media_type,   // 415
    too_many_requests,        // 429
    internal,                 // 500
    unavailable,              // 503: loading or shutting down
    timeout,                  // 504: the request ran past --request-timeout
};

// One error with two messages: `public_message` is safe to send to any
// client; `internal_detail` carries what only the server log may see (paths,
// return codes, exception text). `param` names the offending request field,
// when there is one, in the API's own notation ("messages[0].role").
struct error {
    error_code code = error_code::internal;
    std::string public_message;
    std::string internal_detail;
    std::string param;
};

template <typename T>
using expected = tl::expected<T, error>;

using unexpected = tl::unexpected<error>;

int http_status(error_code code);

// The code's stable snake_case name, as sent in error bodies.
const char* name(error_code code);

error make_error(error_code code, std::string public_message, std::string param = {});

}  // namespace osprey::core
