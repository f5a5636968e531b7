#include "api/anthropic_request.hpp"

#include <cctype>
#include <limits>

#include "api/json_fields.hpp"

namespace osprey::api::anthropic {

namespace {

// The image types Anthropic accepts in a base64 source. The media gate
// still checks the bytes themselves.
bool image_media_type(const std::string& t) {
    return t == "image/jpeg" || t == "image/png" || t == "image/gif" || t == "image/webp";
}

// `cache_control` marks a prefix for Anthropic's prompt cache; osprey reuses
// prefixes on its own, so the mark is accepted and changes nothing.
void accept_cache_control(object_reader& r) {
    if (const json* c = r.raw("cache_control"); c && !c->is_object()) {
        r.fail(type_error(r.name("cache_control"), "an object"));
    }
}

void refuse_unsupported(object_reader& r, std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
        if (r.raw(key)) {
            r.fail(unsupported_error(r.name(key), "this server does not support it yet."));
        }
    }
}

void read_text_block(object_reader& r, core::message& out) {
    auto text = r.string("text", max_text_bytes);
    if (!text && !r.error()) {
        r.fail(missing_error(r.name("text")));
    }
    if (const json* citations = r.raw("citations"); citations && !citations->empty()) {
        r.fail(unsupported_error(r.name("citations"), "this server does not support it yet."));
    }
    accept_cache_control(r);
    core::message_part part;
    part.text = text.value_or("");
    out.parts.push_back(std::move(part));
}

// {"type": "image", "source": {"type": "base64", "media_type", "data"}} or
// {"source": {"type": "url", "url"}}: either way a source for the media gate.
void read_image_block(object_reader& r, core::message& out) {
    const json* source = r.raw("source");
    accept_cache_control(r);
    if (!source) {
        r.fail(missing_error(r.name("source")));
        return;
    }
    if (!source->is_object()) {
        r.fail(type_error(r.name("source"), "an object"));
        return;
    }
    object_reader s(*source, r.name("source"));
    core::message_part part;
    part.kind = core::part_kind::image;
    auto type = s.string("type");
    if (!type && !s.error()) {
        s.fail(missing_error(s.name("type")));
    } else if (type && *type == "base64") {
        auto media_type = s.string("media_type");
        auto data = s.string("data", unbounded_bytes);
        if (!s.error() && (!media_type || !data)) {
            s.fail(missing_error(s.name(media_type ? "data" : "media_type")));
        } else if (media_type && !image_media_type(*media_type)) {
            s.fail(value_error(s.name("media_type"),
                               "must be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'."));
        }
        if (!s.error()) {
            part.source = "data:" + *media_type + ";base64," + *data;
            part.param = s.name("data");
        }
    } else if (type && *type == "url") {
        auto url = s.string("url", unbounded_bytes);
        if (!url && !s.error()) {
            s.fail(missing_error(s.name("url")));
        }
        if (!s.error()) {
            part.source = *url;
            part.param = s.name("url");
        }
    } else if (type) {
        s.fail(unsupported_error(s.name("type"), "image sources of type '" + *type +
                                                     "' are not supported by this server; use "
                                                     "'base64' or 'url'."));
    }
    s.reject_unread();
    if (s.error()) {
        r.fail(*s.error());
        return;
    }
    out.parts.push_back(std::move(part));
}

void read_block(const json& block, const std::string& path, core::message& out,
                object_reader& parent) {
    if (!block.is_object()) {
        parent.fail(type_error(path, "an object"));
        return;
    }
    object_reader r(block, path);
    auto type = r.string("type");
    if (!type && !r.error()) {
        r.fail(missing_error(r.name("type")));
    } else if (type && *type == "text") {
        read_text_block(r, out);
    } else if (type && *type == "image") {
        read_image_block(r, out);
    } else if (type && (*type == "tool_use" || *type == "tool_result")) {
        r.fail(unsupported_error(r.name("type"), "'" + *type +
                                                     "' blocks need tool support, which this "
                                                     "server lacks yet."));
    } else if (type) {
        r.fail(unsupported_error(r.name("type"), "content blocks of type '" + *type +
                                                     "' are not supported by this server yet."));
    }
    r.reject_unread();
    if (r.error()) {
        parent.fail(*r.error());
    }
}

// A string, or an array of content blocks.
void read_content(object_reader& r, const json* content, core::message& out) {
    const std::string path = r.name("content");
    if (content->is_string()) {
        if (content->get_ref<const std::string&>().size() > max_text_bytes) {
            r.fail(length_error(path, max_text_bytes));
            return;
        }
        core::message_part part;
        part.text = content->get<std::string>();
        out.parts.push_back(std::move(part));
        return;
    }
    if (!content->is_array()) {
        r.fail(type_error(path, "a string or an array of content blocks"));
        return;
    }
    if (content->size() > max_content_parts) {
        r.fail(value_error(path, "at most " + std::to_string(max_content_parts) +
                                     " content blocks are allowed in one message."));
        return;
    }
    for (size_t i = 0; i < content->size(); ++i) {
        read_block((*content)[i], path + "[" + std::to_string(i) + "]", out, r);
    }
}

bool blank(const core::message& m) {
    for (const auto& part : m.parts) {
        if (part.kind != core::part_kind::text || !part.text.empty()) {
            return false;
        }
    }
    return true;
}

// `last`: the final message, which as an assistant turn (a prefill) may be
// empty, as Anthropic allows.
void read_message(const json& m, const std::string& path, bool last, core::chat_request& out,
                  object_reader& body) {
    if (!m.is_object()) {
        body.fail(type_error(path, "an object"));
        return;
    }
    object_reader r(m, path);
    core::message message;
    if (auto role = r.string("role")) {
        if (*role == "user") {
            message.role = core::role::user;
        } else if (*role == "assistant") {
            message.role = core::role::assistant;
        } else {
            r.fail(value_error(r.name("role"),
                               "'" + *role +
                                   "' is not one of 'user', 'assistant'; the system prompt goes "
                                   "in the top-level 'system' field."));
        }
    } else if (!r.error()) {
        r.fail(missing_error(r.name("role")));
    }
    if (const json* content = r.raw("content")) {
        read_content(r, content, message);
    } else if (!r.error()) {
        r.fail(missing_error(r.name("content")));
    }
    r.reject_unread();
    if (!r.error() && blank(message) && !(last && message.role == core::role::assistant)) {
        r.fail(value_error(r.name("content"), "must not be empty."));
    }
    for (const auto& part : message.parts) {
        if (!r.error() && message.role == core::role::assistant &&
            part.kind != core::part_kind::text) {
            r.fail(value_error(part.param, "images may appear in user turns only."));
        }
    }
    if (r.error()) {
        body.fail(*r.error());
        return;
    }
    // Anthropic combines consecutive turns of one role into a single turn;
    // so does osprey, since many chat templates insist that roles alternate.
    if (!out.messages.empty() && out.messages.back().role == message.role) {
        auto& parts = out.messages.back().parts;
        parts.insert(parts.end(), std::make_move_iterator(message.parts.begin()),
                     std::make_move_iterator(message.parts.end()));
        return;
    }
    out.messages.push_back(std::move(message));
}

void read_messages(object_reader& r, core::chat_request& out) {
    const json* messages = message_array(r);
    if (!messages) {
        return;
    }
    for (size_t i = 0; i < messages->size(); ++i) {
        read_message((*messages)[i], "messages[" + std::to_string(i) + "]",
                     i + 1 == messages->size(), out, r);
    }
    if (r.error()) {
        return;
    }
    if ((*messages)[0]["role"] != "user") {
        r.fail(value_error("messages[0].role", "the first message must use the 'user' role."));
        return;
    }
    // A final assistant turn is the start of the answer, which the model
    // continues; the response holds only what comes after it.
    out.prefill = out.messages.back().role == core::role::assistant;
    const auto& parts = out.messages.back().parts;
    if (out.prefill && !parts.empty() && !parts.back().text.empty() &&
        std::isspace(static_cast<unsigned char>(parts.back().text.back()))) {
        // As Anthropic: the answer's first token would have to start mid-space.
        r.fail(value_error("messages[" + std::to_string(messages->size() - 1) + "].content",
                           "a final assistant message must not end with whitespace."));
    }
}

// A string, or an array of text blocks; placed before the messages.
void read_system(object_reader& r, core::chat_request& out) {
    const json* system = r.raw("system");
    if (!system) {
        return;
    }
    core::message message;
    message.role = core::role::system;
    if (system->is_string()) {
        if (system->get_ref<const std::string&>().size() > max_text_bytes) {
            r.fail(length_error("system", max_text_bytes));
            return;
        }
        core::message_part part;
        part.text = system->get<std::string>();
        message.parts.push_back(std::move(part));
    } else if (system->is_array()) {
        if (system->size() > max_content_parts) {
            r.fail(value_error("system", "at most " + std::to_string(max_content_parts) +
                                             " text blocks are allowed."));
            return;
        }
        for (size_t i = 0; i < system->size(); ++i) {
            const std::string path = "system[" + std::to_string(i) + "]";
            const json& block = (*system)[i];
            if (!block.is_object() || !block.contains("type") || block["type"] != "text") {
                r.fail(type_error(path, "a text block"));
                return;
            }
            read_block(block, path, message, r);
        }
    } else {
        r.fail(type_error("system", "a string or an array of text blocks"));
        return;
    }
    if (!message.parts.empty()) {
        out.messages.insert(out.messages.begin(), std::move(message));
    }
}

void read_stop_sequences(object_reader& r, core::chat_request& out) {
    const json* stop = r.raw("stop_sequences");
    if (!stop) {
        return;
    }
    if (!stop->is_array()) {
        r.fail(type_error("stop_sequences", "an array of strings"));
        return;
    }
    if (stop->size() > static_cast<size_t>(max_stop_sequences)) {
        r.fail(value_error("stop_sequences", "at most " + std::to_string(max_stop_sequences) +
                                                 " stop sequences are allowed."));
        return;
    }
    for (const auto& s : *stop) {
        if (!s.is_string()) {
            r.fail(type_error("stop_sequences", "an array of strings"));
            return;
        }
        const auto& text = s.get_ref<const std::string&>();
        if (text.empty() || text.size() > max_name_bytes) {
            r.fail(value_error("stop_sequences", "each stop sequence must hold 1 to " +
                                                     std::to_string(max_name_bytes) + " bytes."));
            return;
        }
        out.stop.push_back(text);
    }
}

// `thinking` asks for the model's reasoning as separate blocks, which osprey
// cannot produce yet: "disabled" is honoured, "enabled" is refused.
void read_thinking(object_reader& r) {
    const json* thinking = r.raw("thinking");
    if (!thinking) {
        return;
    }
    if (!thinking->is_object() || !thinking->contains("type") || !(*thinking)["type"].is_string()) {
        r.fail(type_error("thinking", "an object with a string 'type'"));
        return;
    }
    if ((*thinking)["type"] != "disabled") {
        r.fail(unsupported_error("thinking",
                                 "extended thinking is not supported by this "
                                 "server yet; omit it or set type 'disabled'."));
    }
}

void read_metadata(object_reader& r) {
    const json* metadata = r.raw("metadata");
    if (!metadata) {
        return;
    }
    if (!metadata->is_object()) {
        r.fail(type_error("metadata", "an object"));
        return;
    }
    object_reader m(*metadata, "metadata");
    m.string("user_id", max_name_bytes);
    m.reject_unread();
    if (m.error()) {
        r.fail(*m.error());
    }
}

// No tools, as some clients say on every request (`"tools": []`, tool_choice
// "auto" or "none"), is honoured; any tool is refused until tool calls come.
void read_tools(object_reader& r) {
    const json* tools = r.raw("tools");
    if (tools && !tools->is_array()) {
        r.fail(type_error("tools", "an array of tools"));
    } else if (tools && !tools->empty()) {
        r.fail(unsupported_error("tools", "tool use is not supported by this server yet."));
    }
    const json* choice = r.raw("tool_choice");
    if (!choice) {
        return;
    }
    if (!choice->is_object() || !choice->contains("type") || !(*choice)["type"].is_string()) {
        r.fail(type_error("tool_choice", "an object with a string 'type'"));
    } else if ((*choice)["type"] != "auto" && (*choice)["type"] != "none") {
        r.fail(unsupported_error("tool_choice", "tool use is not supported by this server yet."));
    }
}

void read_conversation(object_reader& r, core::chat_request& out) {
    if (auto model = r.string("model")) {
        out.model = *model;
    } else if (!r.error()) {
        r.fail(missing_error("model"));
    }
    read_system(r, out);
    read_messages(r, out);
    read_thinking(r);
    read_tools(r);
    refuse_unsupported(r, {"mcp_servers"});
}

}  // namespace

core::expected<core::chat_request> parse_messages_request(const std::string& body) {
    auto parsed = parse_body(body);
    if (!parsed) {
        return core::unexpected(parsed.error());
    }
    object_reader r(*parsed, "");
    core::chat_request out;
    read_conversation(r, out);
    if (auto max_tokens = r.integer("max_tokens", 1, std::numeric_limits<int32_t>::max())) {
        out.max_tokens = static_cast<int32_t>(*max_tokens);
        // Clients send what their own model could write (4096, 32000); here
        // the answer ends where the context does, with stop_reason max_tokens.
        out.max_tokens_is_cap = true;
    } else if (!r.error()) {
        r.fail(missing_error("max_tokens"));  // Anthropic's API requires it too
    }
    auto& s = out.sampling;
    s.temperature = static_cast<float>(r.number("temperature", 0.0, 1.0).value_or(1.0));
    s.top_p = static_cast<float>(r.number("top_p", 0.0, 1.0).value_or(1.0));
    s.top_k = static_cast<int32_t>(r.integer("top_k", 0, 1 << 20).value_or(0));
    out.stream = r.boolean("stream").value_or(false);
    read_stop_sequences(r, out);
    read_metadata(r);
    if (auto tier = r.string("service_tier"); tier && *tier != "auto" && *tier != "standard_only") {
        r.fail(value_error("service_tier", "must be 'auto' or 'standard_only'."));
    }
    refuse_unsupported(r, {"container", "context_management"});
    r.reject_unread();
    if (r.error()) {
        return core::unexpected(*r.error());
    }
    return out;
}

core::expected<core::chat_request> parse_count_tokens_request(const std::string& body) {
    auto parsed = parse_body(body);
    if (!parsed) {
        return core::unexpected(parsed.error());
    }
    object_reader r(*parsed, "");
    core::chat_request out;
    read_conversation(r, out);
    r.reject_unread();
    if (r.error()) {
        return core::unexpected(*r.error());
    }
    return out;
}

}  // namespace osprey::api::anthropic
