#include "api/anthropic_request.hpp"

#include <cctype>
#include <limits>

#include "api/json_fields.hpp"
#include "api/tool_fields.hpp"

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

// {"type": "tool_use", "id", "name", "input": {...}} in an assistant turn.
void read_tool_use_block(object_reader& r, core::message& out) {
    core::tool_call call;
    call.param = r.name("input");
    call.id = r.string("id").value_or("");
    if (call.id.empty() && !r.error()) {
        r.fail(missing_error(r.name("id")));
    }
    call.name = r.string("name").value_or("");
    if (auto ok = check_tool_name(call.name, 128, r.name("name")); !ok && !r.error()) {
        r.fail(ok.error());
    }
    const json* input = r.raw("input");
    if (!input && !r.error()) {
        r.fail(missing_error(r.name("input")));
    } else if (input && !input->is_object()) {
        r.fail(type_error(r.name("input"), "an object"));
    } else if (input) {
        call.arguments = input->dump();
    }
    accept_cache_control(r);
    out.tool_calls.push_back(std::move(call));
}

// {"type": "tool_result", "tool_use_id", "content": string or text blocks,
// "is_error"} in a user turn: a turn of the tool's own in osprey's request.
void read_tool_result_block(object_reader& r, std::vector<core::message>& results) {
    core::message result;
    result.role = core::role::tool;
    result.param = r.name("content");
    result.tool_call_id = r.string("tool_use_id").value_or("");
    if (result.tool_call_id.empty() && !r.error()) {
        r.fail(missing_error(r.name("tool_use_id")));
    }
    const bool is_error = r.boolean("is_error").value_or(false);
    core::message_part text;
    if (const json* content = r.raw("content"); content && content->is_string()) {
        text.text = content->get<std::string>();
    } else if (content && content->is_array()) {
        for (size_t i = 0; i < content->size() && !r.error(); ++i) {
            const json& block = (*content)[i];
            const std::string path = r.name("content") + "[" + std::to_string(i) + "]";
            if (!block.is_object() || block.value("type", "") != "text" ||
                !block.contains("text") || !block["text"].is_string()) {
                r.fail(unsupported_error(path, "a tool result may hold text blocks only."));
                break;
            }
            text.text += (text.text.empty() ? "" : "\n") + block["text"].get<std::string>();
        }
    } else if (content) {
        r.fail(type_error(r.name("content"), "a string or an array of text blocks"));
    }
    if (text.text.size() > max_text_bytes) {
        r.fail(length_error(r.name("content"), max_text_bytes));
    }
    // Chat templates have no place for the flag; the model reads it in the text.
    if (is_error) {
        text.text = "Error: " + text.text;
    }
    accept_cache_control(r);
    result.parts.push_back(std::move(text));
    results.push_back(std::move(result));
}

// {"type": "thinking", "thinking", "signature"} or {"type":
// "redacted_thinking", "data"} from an earlier answer. As in Anthropic's own
// API, earlier turns' reasoning is not part of the prompt.
void read_thinking_block(object_reader& r, const std::string& type) {
    if (type == "thinking") {
        r.string("thinking", max_text_bytes);
        r.string("signature", max_text_bytes);
    } else {
        r.string("data", max_text_bytes);
    }
}

void read_block(const json& block, const std::string& path, core::message& out,
                object_reader& parent, std::vector<core::message>* tool_results = nullptr) {
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
    } else if (type && *type == "tool_use" && out.role == core::role::assistant) {
        read_tool_use_block(r, out);
    } else if (type && *type == "tool_result" && out.role == core::role::user && tool_results) {
        read_tool_result_block(r, *tool_results);
    } else if (type && (*type == "thinking" || *type == "redacted_thinking") &&
               out.role == core::role::assistant) {
        read_thinking_block(r, *type);
    } else if (type && (*type == "tool_use" || *type == "tool_result" || *type == "thinking" ||
                        *type == "redacted_thinking")) {
        r.fail(value_error(r.name("type"), "'" + *type + "' blocks belong in " +
                                               (*type == "tool_result" ? "user" : "assistant") +
                                               " turns."));
    } else if (type) {
        r.fail(unsupported_error(r.name("type"), "content blocks of type '" + *type +
                                                     "' are not supported by this server yet."));
    }
    r.reject_unread();
    if (r.error()) {
        parent.fail(*r.error());
    }
}

// A string, or an array of content blocks. A user turn's tool results go to
// `tool_results`, each a turn of its own.
void read_content(object_reader& r, const json* content, core::message& out,
                  std::vector<core::message>& tool_results) {
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
        read_block((*content)[i], path + "[" + std::to_string(i) + "]", out, r, &tool_results);
    }
}

bool blank(const core::message& m) {
    if (!m.tool_calls.empty()) {
        return false;
    }
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
    message.param = path;
    std::vector<core::message> tool_results;
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
        read_content(r, content, message, tool_results);
    } else if (!r.error()) {
        r.fail(missing_error(r.name("content")));
    }
    r.reject_unread();
    if (!r.error() && blank(message) && tool_results.empty() &&
        !(last && message.role == core::role::assistant)) {
        r.fail(value_error(r.name("content"), "must not be empty."));
    }
    if (!r.error() && last && !message.tool_calls.empty()) {
        r.fail(value_error(r.name("content"),
                           "a final assistant message may not hold tool_use blocks: answer them "
                           "with tool_result blocks in a user turn."));
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
    // Tool results come first, each a turn of its own, then the user's text.
    for (auto& result : tool_results) {
        out.messages.push_back(std::move(result));
    }
    if (!tool_results.empty() && blank(message)) {
        return;
    }
    // Anthropic combines consecutive turns of one role into a single turn;
    // so does osprey, since many chat templates insist that roles alternate.
    if (!out.messages.empty() && out.messages.back().role == message.role) {
        auto& last_turn = out.messages.back();
        last_turn.parts.insert(last_turn.parts.end(),
                               std::make_move_iterator(message.parts.begin()),
                               std::make_move_iterator(message.parts.end()));
        last_turn.tool_calls.insert(last_turn.tool_calls.end(),
                                    std::make_move_iterator(message.tool_calls.begin()),
                                    std::make_move_iterator(message.tool_calls.end()));
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

// `thinking`: {"type": "enabled", "budget_tokens"} lets a model whose
// template can reason do so, its reasoning sent as thinking blocks;
// "disabled", or no `thinking`, asks the template not to. The budget is
// accepted as Anthropic bounds it and not enforced: the answer's max_tokens
// bounds reasoning and text together.
void read_thinking(object_reader& r, core::chat_request& out) {
    const json* thinking = r.raw("thinking");
    out.thinking = false;
    if (!thinking) {
        return;
    }
    if (!thinking->is_object()) {
        r.fail(type_error("thinking", "an object"));
        return;
    }
    object_reader t(*thinking, "thinking");
    auto type = t.string("type");
    if (!type && !t.error()) {
        t.fail(missing_error(t.name("type")));
    } else if (type && *type == "enabled") {
        out.thinking = true;
        if (!t.integer("budget_tokens", 1024, std::numeric_limits<int32_t>::max()) && !t.error()) {
            t.fail(missing_error(t.name("budget_tokens")));
        }
    } else if (type && *type != "disabled") {
        t.fail(value_error(t.name("type"), "must be 'enabled' or 'disabled'."));
    }
    t.reject_unread();
    if (t.error()) {
        r.fail(*t.error());
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

// tools: [{name, description, input_schema}] (type "custom" or none); the
// server tools Anthropic runs itself (web search, code execution, computer
// use) are refused by type.
void read_tools(object_reader& r, core::chat_request& out) {
    read_tool_array(r, out.tools, ".name", [](object_reader& t, core::tool& tool) {
        if (auto type = t.string("type"); type && *type != "custom") {
            t.fail(unsupported_error(t.name("type"), "tools of type '" + *type +
                                                         "' run on Anthropic's servers; this "
                                                         "server takes client tools only."));
        }
        read_function_fields(t, 128, "input_schema", true, tool);
        accept_cache_control(t);
    });
}

// tool_choice: {type: "auto" | "any" | "tool" | "none", name,
// disable_parallel_tool_use}.
void read_tool_choice(object_reader& r, core::chat_request& out) {
    const json* choice = r.raw("tool_choice");
    if (!choice) {
        return;
    }
    if (!choice->is_object()) {
        r.fail(type_error("tool_choice", "an object"));
        return;
    }
    object_reader c(*choice, "tool_choice");
    auto type = c.string("type");
    if (!type && !c.error()) {
        c.fail(missing_error(c.name("type")));
    } else if (type && *type == "auto") {
        out.tool_choice = core::tool_choice::automatic;
    } else if (type && *type == "any") {
        out.tool_choice = core::tool_choice::required;
    } else if (type && *type == "none") {
        out.tool_choice = core::tool_choice::none;
    } else if (type && *type == "tool") {
        out.tool_choice = core::tool_choice::named;
        out.tool_choice_name = c.string("name").value_or("");
        if (out.tool_choice_name.empty() && !c.error()) {
            c.fail(missing_error(c.name("name")));
        }
    } else if (type) {
        c.fail(value_error(c.name("type"), "must be 'auto', 'any', 'tool' or 'none'."));
    }
    if (auto single = c.boolean("disable_parallel_tool_use")) {
        out.parallel_tool_calls = !*single;
    }
    c.reject_unread();
    if (c.error()) {
        r.fail(*c.error());
        return;
    }
    if (auto ok = check_tool_choice(out, "tool_choice"); !ok) {
        r.fail(ok.error());
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
    read_thinking(r, out);
    read_tools(r, out);
    read_tool_choice(r, out);
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
