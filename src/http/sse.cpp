#include "http/sse.hpp"

namespace osprey::http {

std::string sse_event(std::string_view payload, std::string_view name) {
    std::string event;
    event.reserve(payload.size() + name.size() + 16);
    if (!name.empty()) {
        event += "event: ";
        event += name;
        event += '\n';
    }
    event += "data: ";
    event += payload;
    event += "\n\n";
    return event;
}

}  // namespace osprey::http
