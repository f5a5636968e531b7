#include "http/router.hpp"

#include "http/connection_exchange.hpp"

#include <cctype>

namespace osprey::http {

namespace bhttp = boost::beast::http;

namespace {

using request_t = bhttp::request<bhttp::string_body>;

// The key from "Authorization: Bearer <key>" (OpenAI's SDKs) or from
// "x-api-key: <key>" (Anthropic's).
std::string_view presented_key(const request_t& req) {
    const auto authorization = req[bhttp::field::authorization];
    constexpr std::string_view bearer = "Bearer ";
    if (authorization.size() > bearer.size() &&
        boost::beast::iequals(authorization.substr(0, bearer.size()), bearer)) {
        return authorization.substr(bearer.size());
    }
    return req["x-api-key"];
}

// "application/json", with an optional charset parameter. Anything else is
// refused: a web page can make a browser POST text/plain or form bodies to a
// server on localhost without asking first, but not application/json.
bool is_json(std::string_view content_type) {
    constexpr std::string_view json_type = "application/json";
    if (content_type.size() < json_type.size() ||
        !boost::beast::iequals(content_type.substr(0, json_type.size()), json_type)) {
        return false;
    }
    std::string_view rest = content_type.substr(json_type.size());
    while (!rest.empty() && rest.front() == ' ') {
        rest.remove_prefix(1);
    }
    return rest.empty() || rest.front() == ';';
}

bool origin_allowed(const std::vector<std::string>& allowed, std::string_view origin) {
    for (const auto& a : allowed) {
        if (a == "*" || a == origin) {
            return true;
        }
    }
    return false;
}

// Header names a preflight may ask for are echoed back only if they are
// plain tokens, so that nothing the client sent can split a header.
std::string header_names(std::string_view requested) {
    for (const char c : requested) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != ',' &&
            c != ' ') {
            return "authorization, content-type, x-api-key, anthropic-version";
        }
    }
    return requested.empty() ? "authorization, content-type" : std::string(requested);
}

// Marks the response readable by the page at an allowed Origin, and answers
// a preflight (OPTIONS with Access-Control-Request-Method) itself, before
// the API key check: browsers send no credentials on a preflight. Returns
// true when it answered.
bool apply_cors(const api::service& service, const server_options& options, const request_t& req,
                const std::string& path, connection_exchange& ex) {
    const std::string_view origin = req[bhttp::field::origin];
    if (origin.empty() || !origin_allowed(options.cors_origins, origin)) {
        return false;
    }
    ex.cors_headers = {{"Access-Control-Allow-Origin", std::string(origin)},
                       {"Vary", "Origin"},
                       {"Access-Control-Expose-Headers", "x-request-id"}};
    std::string methods;
    for (const auto& r : service.routes()) {
        if (r.matches(path)) {
            methods += r.method + ", ";
        }
    }
    if (req.method() != bhttp::verb::options ||
        req[bhttp::field::access_control_request_method].empty() || methods.empty()) {
        return false;
    }
    ex.send(204, "",
            {{"Access-Control-Allow-Methods", methods + "OPTIONS"},
             {"Access-Control-Allow-Headers",
              header_names(req[bhttp::field::access_control_request_headers])},
             {"Access-Control-Max-Age", "600"}});
    return true;
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
    const std::size_t n = std::max(a.size(), b.size());
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff |= static_cast<unsigned char>(x ^ y);
    }
    return diff == 0;
}

void route_request(const api::service& service, const server_options& options, const request_t& req,
                   const std::string& path, const std::shared_ptr<connection_exchange>& ex) {
    std::string allowed;  // the methods the path takes
    const api::service::route* match = nullptr;
    for (const auto& r : service.routes()) {
        if (r.matches(path)) {
            allowed += (allowed.empty() ? "" : ", ") + r.method;
            if (r.method == req.method_string()) {
                match = &r;
            }
        }
    }

    if (apply_cors(service, options, req, path, *ex)) {
        return;
    }
    const bool open = match && !match->requires_key;
    if (!options.api_key.empty() && !open &&
        !constant_time_equal(presented_key(req), options.api_key)) {
        service.respond_error(*ex, path, ex->request_id(),
                              core::make_error(core::error_code::unauthorized,
                                               "Missing or invalid API key. Send it as "
                                               "'Authorization: Bearer <key>' or 'x-api-key'."));
        return;
    }
    if (allowed.empty()) {
        service.respond_error(*ex, path, ex->request_id(),
                              core::make_error(core::error_code::not_found,
                                               "Invalid URL (" + std::string(req.method_string()) +
                                                   " " + path + ")."));
        return;
    }
    if (!match) {
        service.respond_error(*ex, path, ex->request_id(),
                              core::make_error(core::error_code::method_not_allowed,
                                               "Method " + std::string(req.method_string()) +
                                                   " is not allowed on " + path + "."),
                              {{"Allow", allowed}});
        return;
    }
    if (req.method() == bhttp::verb::post && !is_json(req[bhttp::field::content_type])) {
        service.respond_error(*ex, path, ex->request_id(),
                              core::make_error(core::error_code::unsupported_media_type,
                                               "Send the request body as JSON, with "
                                               "'Content-Type: application/json'."));
        return;
    }
    match->handle(
        api::request{std::string(req.method_string()), path, req.body(), ex->request_id()}, ex);
}

}  // namespace osprey::http
