#pragma once

#include <string>

namespace osprey::core {

// A fresh request id ("req_" and 24 hex digits), unique across restarts.
// Thread-safe. Sent to the client in `x-request-id` and logged with every
// line about the request.
std::string make_request_id();

// A fresh id with the given prefix, e.g. "chatcmpl-".
std::string make_id(const std::string& prefix);

}  // namespace osprey::core
