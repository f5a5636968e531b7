#include "http/sse.hpp"

namespace osprey::http {

std::string sse_event(std::string_view payload) {
    std::string event;
    event.reserve(payload.size() + 8);
    event += "data: ";
    event += payload;
    event += "\n\n";
    return event;
}

}  // namespace osprey::http
