#pragma once

#include <string>
#include <string_view>

namespace osprey::http {

// One Server-Sent Event holding `payload` as its data. The payload must be a
// single line (the API formatters write compact JSON, whose strings escape
// every line break): a line break inside would end the event early, and the
// rest would be read as fields of the client's choosing.
std::string sse_event(std::string_view payload);

}  // namespace osprey::http
