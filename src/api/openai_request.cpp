#include "api/openai_request.hpp"

#include <limits>

#include "api/json_fields.hpp"
#include "api/json_schema_check.hpp"
#include "api/openai_media_parts.hpp"
#include "api/tool_fields.hpp"

namespace osprey::api::openai {

namespace {

// Fields that tag a request for the client's own bookkeeping and change
// nothing about what is generated.
const std::set<std::string> bookkeeping_fields = {"user", "metadata", "store", "service_tier"};

// OpenAI's logit_bias: {"token id": bias}, the id in decimal, the bias
// from -100 to 100. Far fewer entries than any use needs are allowed.
constexpr size_t max_logit_bias_entries = 1024;

void read_logit_bias(object_reader& r, core::sampling_params& s) {
    const json* bias = r.raw("logit_bias");
    if (!bias) {
        return;
    }
    if (!bias->is_object()) {
        r.fail(type_error("logit_bias", "an object mapping token ids to numbers"));
        return;
    }
    if (bias->size() > max_logit_bias_entries) {
        r.fail(value_error("logit_bias", "at most " + std::to_string(max_logit_bias_entries) +
                                             " tokens may be biased."));
        return;
    }
    for (const auto& [key, value] : bias->items()) {
        const bool digits = !key.empty() && key.size() <= 9 &&
                            key.find_first_not_of("0123456789") == std::string::npos;
        if (!digits) {
            r.fail(value_error("logit_bias", "keys must be token ids in decimal."));
            return;
        }
        if (!value.is_number() || value.get<double>() < -100 || value.get<double>() > 100) {
            r.fail(value_error("logit_bias", "each bias must be a number from -100 to 100."));
            return;
        }
        s.logit_bias.emplace_back(std::stoi(key), value.get<float>());
    }
}

void read_common(object_reader& r, core::chat_request& out) {
    if (auto model = r.string("model")) {
        out.model = *model;
    } else if (!r.error()) {
        r.fail(missing_error("model"));
    }

    auto& s = out.sampling;
    s.temperature = static_cast<float>(r.number("temperature", 0.0, 2.0).value_or(1.0));
    s.top_p = static_cast<float>(r.number("top_p", 0.0, 1.0).value_or(1.0));
    s.top_k = static_cast<int32_t>(r.integer("top_k", 0, 1 << 20).value_or(0));
    s.min_p = static_cast<float>(r.number("min_p", 0.0, 1.0).value_or(0.0));
    s.presence_penalty = static_cast<float>(r.number("presence_penalty", -2.0, 2.0).value_or(0));
    s.frequency_penalty = static_cast<float>(r.number("frequency_penalty", -2.0, 2.0).value_or(0));
    // OpenAI takes any 64-bit seed; the sampler's generator takes 32 bits.
    if (auto seed = r.integer("seed", std::numeric_limits<int64_t>::min(),
                              std::numeric_limits<int64_t>::max())) {
        s.seed = static_cast<uint32_t>(static_cast<uint64_t>(*seed));
    }
    read_logit_bias(r, s);

    out.n = static_cast<int32_t>(r.integer("n", 1, max_choices).value_or(1));
    out.stream = r.boolean("stream").value_or(false);
    if (const json* options = r.raw("stream_options")) {
        if (!options->is_object()) {
            r.fail(type_error("stream_options", "an object"));
        } else {
            object_reader o(*options, "stream_options");
            out.include_usage = o.boolean("include_usage").value_or(false);
            o.reject_unread();
            if (o.error()) {
                r.fail(*o.error());
            }
        }
    }
}

void read_stop(object_reader& r, core::chat_request& out) {
    const json* stop = r.raw("stop");
    if (!stop) {
        return;
    }
    auto add = [&](const json& s) {
        if (s.get_ref<const std::string&>().size() > max_name_bytes) {
            r.fail(length_error("stop", max_name_bytes));
            return;
        }
        out.stop.push_back(s.get<std::string>());
    };
    if (stop->is_string()) {
        add(*stop);
    } else if (stop->is_array()) {
        if (stop->size() > static_cast<size_t>(max_stop_sequences)) {
            r.fail(value_error("stop", "at most " + std::to_string(max_stop_sequences) +
                                           " stop sequences are allowed."));
            return;
        }
        for (const auto& s : *stop) {
            if (!s.is_string()) {
                r.fail(type_error("stop", "a string or an array of strings"));
                return;
            }
            add(s);
        }
    } else {
        r.fail(type_error("stop", "a string or an array of strings"));
        return;
    }
    for (const auto& s : out.stop) {
        if (s.empty()) {
            r.fail(value_error("stop", "stop sequences must not be empty."));
        }
    }
}

// Known OpenAI parameters that osprey cannot honour yet: refused by name,
// never ignored, so a client does not believe they took effect.
void refuse_unsupported(object_reader& r, std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
        if (r.raw(key)) {
            r.fail(unsupported_error(key, "this server does not support it yet."));
        }
    }
}

core::expected<core::role> parse_role(const std::string& role, const std::string& param) {
    if (role == "system") {
        return core::role::system;
    }
    if (role == "developer") {
        return core::role::developer;
    }
    if (role == "user") {
        return core::role::user;
    }
    if (role == "assistant") {
        return core::role::assistant;
    }
    if (role == "tool") {
        return core::role::tool;
    }
    if (role == "function") {
        return core::unexpected(unsupported_error(
            param,
            "'function' messages are the deprecated form of 'tool' messages; send "
            "'tool' messages instead."));
    }
    return core::unexpected(value_error(
        param, "'" + role + "' is not one of 'system', 'developer', 'user', 'assistant', 'tool'."));
}

void read_content_part(const json& part, const std::string& path, core::message& out,
                       object_reader& parent) {
    if (!part.is_object()) {
        parent.fail(type_error(path, "an object"));
        return;
    }
    object_reader r(part, path);
    auto type = r.string("type");
    if (!type && !r.error()) {
        r.fail(missing_error(r.name("type")));
    } else if (type && *type == "text") {
        auto text = r.string("text", max_text_bytes);
        if (!text && !r.error()) {
            r.fail(type_error(r.name("text"), "a string"));
        }
        core::message_part text_part;
        text_part.text = text.value_or("");
        out.parts.push_back(std::move(text_part));
        r.reject_unread();
    } else if (type && !read_media_part(r, *type, out)) {
        r.fail(unsupported_error(r.name("type"), "content parts of type '" + *type +
                                                     "' are not supported by this server yet."));
    }
    if (r.error()) {
        parent.fail(*r.error());
    }
}

void read_content(object_reader& r, const json* content, core::message& out) {
    const std::string path = r.name("content");
    if (content->is_string()) {
        if (content->get_ref<const std::string&>().size() > max_text_bytes) {
            r.fail(length_error(path, max_text_bytes));
            return;
        }
        core::message_part text_part;
        text_part.text = content->get<std::string>();
        out.parts.push_back(std::move(text_part));
    } else if (content->is_array()) {
        if (content->size() > max_content_parts) {
            r.fail(value_error(path, "at most " + std::to_string(max_content_parts) +
                                         " content parts are allowed in one message."));
            return;
        }
        for (size_t i = 0; i < content->size(); ++i) {
            read_content_part((*content)[i], path + "[" + std::to_string(i) + "]", out, r);
        }
    } else {
        r.fail(type_error(path, "a string or an array of content parts"));
    }
}

// An assistant turn's tool_calls: [{id, type: "function", function: {name,
// arguments}}].
void read_tool_calls(object_reader& r, core::message& out) {
    const json* calls = r.raw("tool_calls");
    if (!calls) {
        return;
    }
    if (out.role != core::role::assistant) {
        r.fail(value_error(r.name("tool_calls"), "only assistant messages make tool calls."));
        return;
    }
    if (!calls->is_array() || calls->size() > max_tools) {
        r.fail(type_error(r.name("tool_calls"), "an array of at most 64 tool calls"));
        return;
    }
    for (size_t i = 0; i < calls->size() && !r.error(); ++i) {
        const std::string path = r.name("tool_calls") + "[" + std::to_string(i) + "]";
        if (!(*calls)[i].is_object()) {
            r.fail(type_error(path, "an object"));
            return;
        }
        object_reader c((*calls)[i], path);
        core::tool_call call;
        call.param = path;
        call.id = c.string("id").value_or("");
        if (call.id.empty() && !c.error()) {
            c.fail(missing_error(c.name("id")));
        }
        if (auto type = c.string("type"); type && *type != "function") {
            c.fail(value_error(c.name("type"), "must be 'function'."));
        }
        const json* function = c.raw("function");
        if (!function && !c.error()) {
            c.fail(missing_error(c.name("function")));
        } else if (function && !function->is_object()) {
            c.fail(type_error(c.name("function"), "an object"));
        } else if (function) {
            object_reader f(*function, c.name("function"));
            call.name = f.string("name").value_or("");
            if (auto ok = check_tool_name(call.name, 64, f.name("name")); !ok && !f.error()) {
                f.fail(ok.error());
            }
            auto arguments = f.string("arguments", max_text_bytes);
            if (!arguments && !f.error()) {
                f.fail(missing_error(f.name("arguments")));
            } else if (arguments) {
                if (auto ok = check_call_arguments(*arguments, f.name("arguments")); !ok) {
                    f.fail(ok.error());
                }
                call.arguments = std::move(*arguments);
            }
            f.reject_unread();
            if (f.error()) {
                c.fail(*f.error());
            }
        }
        c.reject_unread();
        if (c.error()) {
            r.fail(*c.error());
            return;
        }
        out.tool_calls.push_back(std::move(call));
    }
}

void read_message(const json& m, const std::string& path, core::chat_request& out,
                  object_reader& body) {
    if (!m.is_object()) {
        body.fail(type_error(path, "an object"));
        return;
    }
    object_reader r(m, path);
    core::message message;
    message.param = path;
    if (auto role = r.string("role")) {
        if (auto parsed = parse_role(*role, r.name("role"))) {
            message.role = *parsed;
        } else {
            r.fail(parsed.error());
        }
    } else if (!r.error()) {
        r.fail(missing_error(r.name("role")));
    }
    if (const json* content = r.raw("content")) {
        read_content(r, content, message);
    } else if (!r.error() && message.role != core::role::assistant) {
        r.fail(missing_error(r.name("content")));
    }
    r.string("name");  // a participant's name: accepted, not shown to the model
    r.string("refusal", max_text_bytes);
    read_tool_calls(r, message);
    if (message.role == core::role::tool) {
        message.tool_call_id = r.string("tool_call_id").value_or("");
        if (message.tool_call_id.empty() && !r.error()) {
            r.fail(missing_error(r.name("tool_call_id")));
        }
    }
    for (const auto& part : message.parts) {
        if (message.role == core::role::tool && part.kind != core::part_kind::text && !r.error()) {
            r.fail(value_error(part.param, "a tool's result may hold text only."));
        }
    }
    refuse_unsupported(r, {"function_call", "audio"});
    r.reject_unread();
    if (r.error()) {
        body.fail(*r.error());
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
        read_message((*messages)[i], "messages[" + std::to_string(i) + "]", out, r);
    }
}

void read_max_tokens(object_reader& r, core::chat_request& out) {
    constexpr int64_t limit = std::numeric_limits<int32_t>::max();
    auto legacy = r.integer("max_tokens", 1, limit);
    auto current = r.integer("max_completion_tokens", 1, limit);
    if (current) {
        out.max_tokens = static_cast<int32_t>(*current);
    } else if (legacy) {
        out.max_tokens = static_cast<int32_t>(*legacy);
    }
}

void read_chat_logprobs(object_reader& r, core::chat_request& out) {
    const bool logprobs = r.boolean("logprobs").value_or(false);
    auto top = r.integer("top_logprobs", 0, max_top_logprobs);
    if (top && !logprobs && !r.error()) {
        r.fail(value_error("top_logprobs", "requires 'logprobs' to be true."));
    }
    if (logprobs) {
        out.top_logprobs = static_cast<int32_t>(top.value_or(0));
    }
}

// response_format.json_schema: {name, description, schema, strict}. The
// schema is checked within bounds (json_schema_check.hpp); strict or not,
// the answer is held to it.
void read_json_schema(object_reader& f, core::output_format& out) {
    const json* spec = f.raw("json_schema");
    if (!spec) {
        f.fail(missing_error(f.name("json_schema")));
        return;
    }
    if (!spec->is_object()) {
        f.fail(type_error(f.name("json_schema"), "an object"));
        return;
    }
    object_reader s(*spec, f.name("json_schema"));
    auto name = s.string("name", 64);
    if (!name && !s.error()) {
        s.fail(missing_error(s.name("name")));
    } else if (name &&
               (name->empty() || name->find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                         "0123456789_-") != std::string::npos)) {
        s.fail(value_error(s.name("name"), "may hold only letters, digits, '_' and '-'."));
    }
    s.string("description", max_text_bytes);
    s.boolean("strict");
    out.kind = core::output_kind::json_schema;
    out.schema_param = s.name("schema");
    out.schema = "{}";  // no schema: any JSON value
    if (const json* schema = s.raw("schema")) {
        if (auto ok = check_output_schema(*schema, out.schema_param); !ok) {
            s.fail(ok.error());
        } else {
            out.schema = schema->dump();
        }
    }
    s.reject_unread();
    if (s.error()) {
        f.fail(*s.error());
    }
}

void read_response_format(object_reader& r, core::chat_request& out) {
    const json* format = r.raw("response_format");
    if (!format) {
        return;
    }
    if (!format->is_object()) {
        r.fail(type_error("response_format", "an object"));
        return;
    }
    object_reader f(*format, "response_format");
    out.output.param = "response_format";
    auto type = f.string("type");
    if (!type && !f.error()) {
        f.fail(missing_error(f.name("type")));
    } else if (type && *type == "json_object") {
        out.output.kind = core::output_kind::json_object;
    } else if (type && *type == "json_schema") {
        read_json_schema(f, out.output);
    } else if (type && *type != "text") {
        f.fail(value_error(f.name("type"), "must be 'text', 'json_object' or 'json_schema'."));
    }
    f.reject_unread();
    if (f.error()) {
        r.fail(*f.error());
    }
}

// tools: [{type: "function", function: {name, description, parameters, strict}}].
void read_tools(object_reader& r, core::chat_request& out) {
    read_tool_array(r, out.tools, ".function.name", [](object_reader& t, core::tool& tool) {
        auto type = t.string("type");
        if (!type && !t.error()) {
            t.fail(missing_error(t.name("type")));
        } else if (type && *type != "function") {
            t.fail(unsupported_error(t.name("type"), "only 'function' tools are supported."));
        }
        const json* function = t.raw("function");
        if (!function && !t.error()) {
            t.fail(missing_error(t.name("function")));
        } else if (function && !function->is_object()) {
            t.fail(type_error(t.name("function"), "an object"));
        } else if (function && !t.error()) {
            object_reader f(*function, t.name("function"));
            read_function_fields(f, 64, "parameters", false, tool);
            f.boolean("strict");  // calls always follow the schema, strict or not
            f.reject_unread();
            if (f.error()) {
                t.fail(*f.error());
            }
        }
    });
}

// tool_choice: "none", "auto", "required", or {type: "function", function: {name}}.
void read_tool_choice(object_reader& r, core::chat_request& out) {
    out.parallel_tool_calls = r.boolean("parallel_tool_calls").value_or(true);
    const json* choice = r.raw("tool_choice");
    if (!choice) {
        return;
    }
    if (choice->is_string()) {
        const auto& mode = choice->get_ref<const std::string&>();
        if (mode == "none") {
            out.tool_choice = core::tool_choice::none;
        } else if (mode == "auto") {
            out.tool_choice = core::tool_choice::automatic;
        } else if (mode == "required") {
            out.tool_choice = core::tool_choice::required;
        } else {
            r.fail(value_error("tool_choice",
                               "must be 'none', 'auto', 'required' or an object "
                               "naming a function."));
            return;
        }
    } else if (choice->is_object()) {
        object_reader c(*choice, "tool_choice");
        if (auto type = c.string("type"); !type || *type != "function") {
            c.fail(value_error(c.name("type"), "must be 'function'."));
        }
        const json* function = c.raw("function");
        if (!function || !function->is_object()) {
            c.fail(type_error(c.name("function"), "an object with the function's name"));
        } else {
            object_reader f(*function, c.name("function"));
            out.tool_choice_name = f.string("name").value_or("");
            f.reject_unread();
            if (f.error()) {
                c.fail(*f.error());
            }
        }
        c.reject_unread();
        if (c.error()) {
            r.fail(*c.error());
            return;
        }
        out.tool_choice = core::tool_choice::named;
    } else {
        r.fail(type_error("tool_choice", "a string or an object"));
        return;
    }
    if (auto ok = check_tool_choice(out, "tool_choice"); !ok) {
        r.fail(ok.error());
    }
}

}  // namespace

core::expected<core::chat_request> parse_chat_request(const std::string& body) {
    auto parsed = parse_body(body);
    if (!parsed) {
        return core::unexpected(parsed.error());
    }
    object_reader r(*parsed, "");
    core::chat_request out;
    read_common(r, out);
    read_messages(r, out);
    read_max_tokens(r, out);
    read_stop(r, out);
    read_chat_logprobs(r, out);
    read_response_format(r, out);
    if (const json* modalities = r.raw("modalities");
        modalities && *modalities != json::array({"text"})) {
        r.fail(unsupported_error("modalities", "only [\"text\"] is supported."));
    }
    read_tools(r, out);
    read_tool_choice(r, out);
    refuse_unsupported(r, {"functions", "function_call", "audio", "prediction",
                           "web_search_options", "reasoning_effort", "verbosity"});
    r.reject_unread(bookkeeping_fields);
    if (r.error()) {
        return core::unexpected(*r.error());
    }
    return out;
}

namespace {

void read_prompt(object_reader& r, core::chat_request& out) {
    const json* prompt = r.raw("prompt");
    if (!prompt) {
        r.fail(missing_error("prompt"));
    } else if (prompt->is_string()) {
        out.prompt = prompt->get<std::string>();
    } else if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
        out.prompt = (*prompt)[0].get<std::string>();
    } else if (prompt->is_array()) {
        r.fail(unsupported_error("prompt", "only a single string prompt is supported."));
    } else {
        r.fail(type_error("prompt", "a string"));
    }
    if (out.prompt && out.prompt->size() > max_text_bytes) {
        r.fail(length_error("prompt", max_text_bytes));
    }
}

void refuse_unless(object_reader& r, const char* key, const json& harmless) {
    if (const json* v = r.raw(key); v && *v != harmless) {
        r.fail(unsupported_error(key, "this server does not support it yet."));
    }
}

}  // namespace

core::expected<core::chat_request> parse_completion_request(const std::string& body) {
    auto parsed = parse_body(body);
    if (!parsed) {
        return core::unexpected(parsed.error());
    }
    object_reader r(*parsed, "");
    core::chat_request out;
    read_common(r, out);
    read_prompt(r, out);
    // The legacy Completions API stops after 16 tokens unless told otherwise.
    out.max_tokens = static_cast<int32_t>(
        r.integer("max_tokens", 1, std::numeric_limits<int32_t>::max()).value_or(16));
    read_stop(r, out);
    if (auto logprobs = r.integer("logprobs", 0, max_top_logprobs)) {
        out.top_logprobs = static_cast<int32_t>(*logprobs);
    }
    refuse_unless(r, "echo", false);
    refuse_unless(r, "best_of", 1);
    refuse_unless(r, "suffix", "");
    r.reject_unread(bookkeeping_fields);
    if (r.error()) {
        return core::unexpected(*r.error());
    }
    return out;
}

}  // namespace osprey::api::openai
