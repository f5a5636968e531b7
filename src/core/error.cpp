#include "core/error.hpp"

namespace osprey::core {

int http_status(error_code code) {
    switch (code) {
    case error_code::invalid_json:
    case error_code::invalid_type:
    case error_code::invalid_value:
    case error_code::missing_parameter:
    case error_code::unsupported_parameter:
    case error_code::unknown_parameter:
    case error_code::context_length_exceeded:
    case error_code::media_unavailable: return 400;
    case error_code::unauthorized: return 401;
    case error_code::not_found:
    case error_code::model_not_found: return 404;
    case error_code::response_not_found: return 404;
    case error_code::method_not_allowed: return 405;
    case error_code::payload_too_large: return 413;
    case error_code::unsupported_media_type: return 415;
    case error_code::headers_too_large: return 431;
    case error_code::uri_too_long: return 414;
    case error_code::too_many_requests: return 429;
    case error_code::internal: return 500;
    case error_code::unavailable: return 503;
    case error_code::timeout: return 504;
    }
    return 500;
}

const char* name(error_code code) {
    switch (code) {
    case error_code::invalid_json: return "invalid_json";
    case error_code::invalid_type: return "invalid_type";
    case error_code::invalid_value: return "invalid_value";
    case error_code::missing_parameter: return "missing_required_parameter";
    case error_code::unsupported_parameter: return "unsupported_parameter";
    case error_code::unknown_parameter: return "unknown_parameter";
    case error_code::context_length_exceeded: return "context_length_exceeded";
    case error_code::media_unavailable: return "media_unavailable";
    case error_code::unauthorized: return "invalid_api_key";
    case error_code::not_found: return "unknown_url";
    case error_code::model_not_found: return "model_not_found";
    case error_code::response_not_found: return "response_not_found";
    case error_code::method_not_allowed: return "method_not_allowed";
    case error_code::payload_too_large: return "request_too_large";
    case error_code::unsupported_media_type: return "unsupported_media_type";
    case error_code::headers_too_large: return "request_headers_too_large";
    case error_code::uri_too_long: return "uri_too_long";
    case error_code::too_many_requests: return "rate_limit_exceeded";
    case error_code::internal: return "internal_error";
    case error_code::unavailable: return "unavailable";
    case error_code::timeout: return "request_timeout";
    }
    return "internal_error";
}

error make_error(error_code code, std::string public_message, std::string param) {
    return error{code, std::move(public_message), {}, std::move(param)};
}

}  // namespace osprey::core
