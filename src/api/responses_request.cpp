#include "api/responses_request.hpp"

#include <limits>

#include "api/json_fields.hpp"
#include "api/json_schema_check.hpp"
#include "api/openai_media_parts.hpp"
#include "api/tool_fields.hpp"

namespace osprey::api::responses {

namespace {

// OpenAI's bound on metadata: 16 pairs, keys up to 64 characters, values up to 512.
constexpr size_t max_metadata_pairs = 16;

// Fields that change nothing about the answer and are accepted as they come.
const std::set<std::string> ignored_fields = {"user", "service_tier", "prompt_cache_key",
                                              "safety_identifier"};

// The tools OpenAI runs itself, by the type names its API gives them.
bool hosted_tool(const std::string& type) {
    return type != "function";
}

void refuse_unless(object_reader& r, const char* key, const json& harmless) {
    if (const json* v = r.raw(key); v && *v != harmless) {
        r.fail(unsupported_error(key, "this server does not support it yet."));
    }
}

// One content part of a message item. `role` decides which parts it may hold:
// input parts in the client's turns, output_text and refusal in the model's.
void read_part(const json& part, const std::string& path, core::role role, core::message& out,
               object_reader& parent) {
    if (!part.is_object()) {
        parent.fail(type_error(path, "an object"));
        return;
    }
    object_reader r(part, path);
    auto type = r.string("type");
    const bool assistant = role == core::role::assistant;
    if (!type && !r.error()) {
        r.fail(missing_error(r.name("type")));
    } else if (type && (*type == (assistant ? "output_text" : "input_text"))) {
        core::message_part text;
        text.text = r.string("text", max_text_bytes).value_or("");
        if (!r.raw("text") && !r.error()) {
            r.fail(missing_error(r.name("text")));
        }
        r.raw("annotations");  // the model's earlier output: citations osprey never makes
        r.raw("logprobs");
        out.parts.push_back(std::move(text));
        r.reject_unread();
    } else if (type && assistant && *type == "refusal") {
        r.string("refusal", max_text_bytes);
        r.reject_unread();
    } else if (type && !assistant && *type == "input_image") {
        auto url = r.string("image_url", unbounded_bytes);
        if (!url && !r.error()) {
            r.fail(r.raw("file_id") ? unsupported_error(r.name("file_id"),
                                                        "files are not supported; send the "
                                                        "image as a URL or a data: URI.")
                                    : missing_error(r.name("image_url")));
        }
        if (auto detail = r.string("detail");
            detail && *detail != "auto" && *detail != "low" && *detail != "high") {
            r.fail(value_error(r.name("detail"), "must be 'auto', 'low' or 'high'."));
        }
        r.reject_unread();
        if (!r.error()) {
            core::message_part image;
            image.kind = core::part_kind::image;
            image.source = *url;
            image.param = r.name("image_url");
            out.parts.push_back(std::move(image));
        }
    } else if (type && !assistant && *type == "input_audio") {
        openai::read_media_part(r, *type, out);
    } else if (type) {
        r.fail(unsupported_error(r.name("type"),
                                 "content parts of type '" + *type + "' are not supported in " +
                                     (assistant ? "assistant" : "input") + " messages."));
    }
    if (r.error()) {
        parent.fail(*r.error());
    }
}

core::expected<core::role> item_role(const std::string& role, const std::string& param) {
    if (role == "user") {
        return core::role::user;
    }
    if (role == "system") {
        return core::role::system;
    }
    if (role == "developer") {
        return core::role::developer;
    }
    if (role == "assistant") {
        return core::role::assistant;
    }
    return core::unexpected(value_error(
        param, "'" + role + "' is not one of 'user', 'system', 'developer', 'assistant'."));
}

// Reads conversation items onto messages. A function call joins the
// assistant message before it (or starts one); its output is a tool turn.
class item_reader {
public:
    explicit item_reader(std::vector<core::message>& out) : out_(out) {}

    void read(const json& item, const std::string& path, object_reader& parent) {
        if (!item.is_object()) {
            parent.fail(type_error(path, "an object"));
            return;
        }
        object_reader r(item, path);
        const std::string type = r.string("type").value_or("message");
        if (type == "message") {
            read_message(r);
        } else if (type == "function_call") {
            read_call(r);
        } else if (type == "function_call_output") {
            read_output(r);
        } else if (type == "reasoning") {
            // An earlier answer's reasoning: as in OpenAI's API for models
            // that do not replay it, not part of the prompt.
            for (const char* key : {"id", "summary", "content", "encrypted_content", "status"}) {
                r.raw(key);
            }
        } else {
            r.fail(unsupported_error(r.name("type"), "input items of type '" + type +
                                                         "' are not supported by this server."));
        }
        r.raw("id");
        r.string("status");
        r.reject_unread();
        if (r.error()) {
            parent.fail(*r.error());
        }
    }

private:
    void read_message(object_reader& r) {
        core::message m;
        m.param = r.name("content");
        auto role = r.string("role");
        if (!role && !r.error()) {
            r.fail(missing_error(r.name("role")));
            return;
        }
        if (!role) {
            return;
        }
        auto parsed = item_role(*role, r.name("role"));
        if (!parsed) {
            r.fail(parsed.error());
            return;
        }
        m.role = *parsed;
        const json* content = r.raw("content");
        if (!content) {
            r.fail(missing_error(r.name("content")));
        } else if (content->is_string()) {
            if (content->get_ref<const std::string&>().size() > max_text_bytes) {
                r.fail(length_error(r.name("content"), max_text_bytes));
                return;
            }
            core::message_part text;
            text.text = content->get<std::string>();
            m.parts.push_back(std::move(text));
        } else if (content->is_array() && content->size() <= max_content_parts) {
            for (size_t i = 0; i < content->size(); ++i) {
                read_part((*content)[i], r.name("content") + "[" + std::to_string(i) + "]", m.role,
                          m, r);
            }
        } else {
            r.fail(type_error(r.name("content"), "a string or an array of content parts"));
        }
        out_.push_back(std::move(m));
    }

    void read_call(object_reader& r) {
        core::tool_call call;
        call.param = r.name("arguments");
        call.id = r.string("call_id").value_or("");
        if (call.id.empty() && !r.error()) {
            r.fail(missing_error(r.name("call_id")));
        }
        call.name = r.string("name").value_or("");
        if (auto ok = check_tool_name(call.name, 64, r.name("name")); !ok && !r.error()) {
            r.fail(ok.error());
        }
        auto arguments = r.string("arguments", max_text_bytes);
        if (!arguments && !r.error()) {
            r.fail(missing_error(r.name("arguments")));
        } else if (arguments) {
            if (auto ok = check_call_arguments(*arguments, r.name("arguments")); !ok) {
                r.fail(ok.error());
            }
            call.arguments = std::move(*arguments);
        }
        if (out_.empty() || out_.back().role != core::role::assistant) {
            core::message m;
            m.role = core::role::assistant;
            m.param = r.name("call_id");
            out_.push_back(std::move(m));
        }
        out_.back().tool_calls.push_back(std::move(call));
    }

    void read_output(object_reader& r) {
        core::message m;
        m.role = core::role::tool;
        m.param = r.name("output");
        m.tool_call_id = r.string("call_id").value_or("");
        if (m.tool_call_id.empty() && !r.error()) {
            r.fail(missing_error(r.name("call_id")));
        }
        core::message_part text;
        if (auto output = r.string("output", max_text_bytes)) {
            text.text = std::move(*output);
        } else if (!r.error()) {
            r.fail(r.raw("output") ? unsupported_error(r.name("output"),
                                                       "only text output is "
                                                       "supported.")
                                   : missing_error(r.name("output")));
        }
        m.parts.push_back(std::move(text));
        out_.push_back(std::move(m));
    }

    std::vector<core::message>& out_;
};

void read_input(object_reader& r, responses_request& out) {
    const json* input = r.raw("input");
    if (!input) {
        r.fail(missing_error("input"));
        return;
    }
    if (input->is_string()) {
        if (input->get_ref<const std::string&>().size() > max_text_bytes) {
            r.fail(length_error("input", max_text_bytes));
            return;
        }
        out.input_items =
            json::array({{{"type", "message"},
                          {"role", "user"},
                          {"content", json::array({{{"type", "input_text"}, {"text", *input}}})}}});
    } else if (input->is_array() && !input->empty() && input->size() <= max_messages) {
        out.input_items = *input;
    } else {
        r.fail(type_error("input", "a string or a non-empty array of at most 2048 items"));
        return;
    }
    item_reader items(out.input_messages);
    for (size_t i = 0; i < out.input_items.size() && !r.error(); ++i) {
        items.read(out.input_items[i], "input[" + std::to_string(i) + "]", r);
    }
}

void read_tools(object_reader& r, responses_request& out) {
    if (const json* tools = r.raw("tools")) {
        out.tools = *tools;
    }
    read_tool_array(r, out.chat.tools, ".name", [](object_reader& t, core::tool& tool) {
        auto type = t.string("type");
        if (!type && !t.error()) {
            t.fail(missing_error(t.name("type")));
        } else if (type && hosted_tool(*type)) {
            t.fail(unsupported_error(t.name("type"), "tools of type '" + *type +
                                                         "' run on OpenAI's servers; this server "
                                                         "takes function tools only."));
        }
        read_function_fields(t, 64, "parameters", false, tool);
        t.boolean("strict");  // calls always follow the schema, strict or not
    });
}

// tool_choice: "none", "auto", "required", or {"type": "function", "name"}.
void read_tool_choice(object_reader& r, responses_request& out) {
    auto& chat = out.chat;
    chat.parallel_tool_calls = r.boolean("parallel_tool_calls").value_or(true);
    const json* choice = r.raw("tool_choice");
    if (!choice) {
        return;
    }
    out.tool_choice = *choice;
    if (choice->is_string() && *choice == "none") {
        chat.tool_choice = core::tool_choice::none;
    } else if (choice->is_string() && *choice == "auto") {
        chat.tool_choice = core::tool_choice::automatic;
    } else if (choice->is_string() && *choice == "required") {
        chat.tool_choice = core::tool_choice::required;
    } else if (choice->is_object()) {
        object_reader c(*choice, "tool_choice");
        if (auto type = c.string("type"); !type || *type != "function") {
            c.fail(unsupported_error(c.name("type"), "only function tools can be chosen."));
        }
        chat.tool_choice_name = c.string("name").value_or("");
        c.reject_unread();
        if (c.error()) {
            r.fail(*c.error());
            return;
        }
        chat.tool_choice = core::tool_choice::named;
    } else {
        r.fail(value_error("tool_choice",
                           "must be 'none', 'auto', 'required' or an object "
                           "naming a function."));
        return;
    }
    if (auto ok = check_tool_choice(chat, "tool_choice"); !ok) {
        r.fail(ok.error());
    }
}

// text: {"format": {"type": "text" | "json_object" | "json_schema", ...}}, the
// json_schema's fields flat beside its type.
void read_text(object_reader& r, responses_request& out) {
    const json* text = r.raw("text");
    if (!text) {
        return;
    }
    if (!text->is_object()) {
        r.fail(type_error("text", "an object"));
        return;
    }
    object_reader t(*text, "text");
    if (auto verbosity = t.string("verbosity"); verbosity && *verbosity != "medium") {
        t.fail(unsupported_error(t.name("verbosity"), "only 'medium' is supported."));
    }
    const json* format = t.raw("format");
    if (format && !format->is_object()) {
        t.fail(type_error(t.name("format"), "an object"));
    } else if (format) {
        out.text_format = *format;
        object_reader f(*format, t.name("format"));
        auto type = f.string("type");
        auto& output = out.chat.output;
        output.param = "text.format";
        if (!type && !f.error()) {
            f.fail(missing_error(f.name("type")));
        } else if (type && *type == "json_object") {
            output.kind = core::output_kind::json_object;
        } else if (type && *type == "json_schema") {
            auto name = f.string("name", 64);
            if (!name && !f.error()) {
                f.fail(missing_error(f.name("name")));
            } else if (name) {
                if (auto ok = check_tool_name(*name, 64, f.name("name")); !ok) {
                    f.fail(ok.error());
                }
            }
            f.string("description", max_text_bytes);
            f.boolean("strict");
            output.kind = core::output_kind::json_schema;
            output.schema_param = f.name("schema");
            const json* schema = f.raw("schema");
            if (!schema && !f.error()) {
                f.fail(missing_error(f.name("schema")));
            } else if (schema) {
                if (auto ok = check_output_schema(*schema, output.schema_param); !ok) {
                    f.fail(ok.error());
                } else {
                    output.schema = schema->dump();
                }
            }
        } else if (type && *type != "text") {
            f.fail(value_error(f.name("type"), "must be 'text', 'json_object' or 'json_schema'."));
        }
        f.reject_unread();
        if (f.error()) {
            t.fail(*f.error());
        }
    }
    t.reject_unread();
    if (t.error()) {
        r.fail(*t.error());
    }
}

void read_metadata(object_reader& r, responses_request& out) {
    const json* metadata = r.raw("metadata");
    if (!metadata) {
        return;
    }
    if (!metadata->is_object() || metadata->size() > max_metadata_pairs) {
        r.fail(type_error("metadata", "an object of at most 16 string values"));
        return;
    }
    for (const auto& [key, value] : metadata->items()) {
        if (key.size() > 64 || !value.is_string() ||
            value.get_ref<const std::string&>().size() > 512) {
            r.fail(value_error("metadata",
                               "keys may be up to 64 characters and values strings "
                               "of up to 512."));
            return;
        }
    }
    out.metadata = *metadata;
}

}  // namespace

core::expected<responses_request> parse_request(const std::string& body) {
    auto parsed = parse_body(body);
    if (!parsed) {
        return core::unexpected(parsed.error());
    }
    object_reader r(*parsed, "");
    responses_request out;
    auto& chat = out.chat;
    chat.model = r.string("model").value_or("");
    if (chat.model.empty() && !r.error()) {
        r.fail(missing_error("model"));
    }
    read_input(r, out);
    if (auto instructions = r.string("instructions", max_text_bytes)) {
        out.instructions = std::move(*instructions);
    }
    out.previous_response_id = r.string("previous_response_id").value_or("");
    out.store = r.boolean("store").value_or(true);
    chat.stream = r.boolean("stream").value_or(false);
    auto& s = chat.sampling;
    s.temperature = static_cast<float>(r.number("temperature", 0.0, 2.0).value_or(1.0));
    s.top_p = static_cast<float>(r.number("top_p", 0.0, 1.0).value_or(1.0));
    if (auto max = r.integer("max_output_tokens", 1, std::numeric_limits<int32_t>::max())) {
        chat.max_tokens = static_cast<int32_t>(*max);
    }
    read_tools(r, out);
    read_tool_choice(r, out);
    read_text(r, out);
    read_metadata(r, out);
    refuse_unless(r, "truncation", "disabled");
    refuse_unless(r, "background", false);
    refuse_unless(r, "include", json::array());
    refuse_unless(r, "reasoning", json::object());
    for (const char* key :
         {"top_logprobs", "max_tool_calls", "prompt", "conversation", "stream_options"}) {
        if (r.raw(key)) {
            r.fail(unsupported_error(key, "this server does not support it yet."));
        }
    }
    r.reject_unread(ignored_fields);
    if (r.error()) {
        return core::unexpected(*r.error());
    }
    return out;
}

core::expected<void> build_messages(responses_request& r, const json& earlier) {
    auto& messages = r.chat.messages;
    messages.clear();
    if (r.instructions) {
        core::message system;
        system.role = core::role::developer;
        system.param = "instructions";
        system.parts.emplace_back();
        system.parts.back().text = *r.instructions;
        messages.push_back(std::move(system));
    }
    if (!earlier.empty()) {
        json holder = json::object();
        object_reader reader(holder, "previous_response_id");
        item_reader items(messages);
        for (size_t i = 0; i < earlier.size() && !reader.error(); ++i) {
            items.read(earlier[i], "previous_response_id", reader);
        }
        if (reader.error()) {
            core::error e = core::make_error(core::error_code::internal,
                                             "The previous response could not be read back.");
            e.internal_detail = "stored conversation item: " + reader.error()->public_message;
            return core::unexpected(std::move(e));
        }
    }
    messages.insert(messages.end(), r.input_messages.begin(), r.input_messages.end());
    return {};
}

}  // namespace osprey::api::responses
