#include "core/chat_request.hpp"

namespace osprey::core {

const char* name(role r) {
    switch (r) {
    case role::system: return "system";
    case role::developer: return "developer";
    case role::user: return "user";
    case role::assistant: return "assistant";
    }
    return "user";
}

}  // namespace osprey::core
