#include "core/events.hpp"

namespace osprey::core {

const char* name(finish_reason r) {
    switch (r) {
    case finish_reason::stop: return "stop";
    case finish_reason::length: return "length";
    case finish_reason::tool_calls: return "tool_calls";
    }
    return "stop";
}

}  // namespace osprey::core
