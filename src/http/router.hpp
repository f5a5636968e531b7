#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <boost/beast/http.hpp>

#include "api/service.hpp"
#include "http/server.hpp"

namespace osprey::http {

class connection_exchange;

// Checks the API key, finds the route for the request's method and path, and
// calls its handler; answers 401, 404 or 405 itself. The key is checked before
// the route is looked up, so that without it no route can even be told apart
// from a missing one; only routes marked open (/health) skip it. A route
// added to the service is covered by construction.
void route_request(const api::service& service, const server_options& options,
                   const boost::beast::http::request<boost::beast::http::string_body>& req,
                   const std::string& path, const std::shared_ptr<connection_exchange>& ex);

// Compares in time that depends only on the lengths' maximum, never on where
// the first difference lies.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace osprey::http
