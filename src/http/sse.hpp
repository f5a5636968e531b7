#pragma once

#include <string>
#include <string_view>

namespace osprey::http {

// One Server-Sent Event holding `payload` as its data, named `name` when it
// is not empty. Both must be single lines (the API formatters write compact
// JSON, whose strings escape every line break, and name events with fixed
// words): a line break inside would end the event early, and the rest would
// be read as fields of the client's choosing.
std::string sse_event(std::string_view payload, std::string_view name = {});

}  // namespace osprey::http
