#include "http/router.hpp"

#include "http/connection_exchange.hpp"

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
    const api::service::route* same_path = nullptr;
    const api::service::route* match = nullptr;
    for (const auto& r : service.routes()) {
        if (r.path == path) {
            same_path = &r;
            if (r.method == req.method_string()) {
                match = &r;
            }
        }
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
    if (!same_path) {
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
                              {{"Allow", std::string(same_path->method)}});
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
