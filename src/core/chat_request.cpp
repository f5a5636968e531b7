#include "core/chat_request.hpp"

namespace osprey::core {

const char* name(role r) {
    switch (r) {
    case role::system: return "system";
    case role::developer: return "developer";
    case role::user: return "user";
    case role::assistant: return "assistant";
    case role::tool: return "tool";
    }
    return "user";
}

const char* name(part_kind k) {
    switch (k) {
    case part_kind::text: return "text";
    case part_kind::image: return "image";
    case part_kind::audio: return "audio";
    case part_kind::video: return "video";
    }
    return "text";
}

}  // namespace osprey::core
