#include "api/tool_fields.hpp"

#include "api/json_schema_check.hpp"
#include "api/strict_json.hpp"

namespace osprey::api {

core::expected<void> check_tool_name(const std::string& name, size_t max_bytes,
                                     const std::string& param) {
    constexpr const char* allowed =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
    if (name.empty() || name.size() > max_bytes ||
        name.find_first_not_of(allowed) != std::string::npos) {
        return core::unexpected(value_error(
            param, "must be 1 to " + std::to_string(max_bytes) + " letters, digits, '_' or '-'."));
    }
    return {};
}

core::expected<std::string> read_tool_schema(const json* schema, const std::string& param) {
    if (schema == nullptr) {
        return std::string(R"({"type":"object","properties":{}})");
    }
    if (!schema->is_object()) {
        return core::unexpected(type_error(param, "a JSON schema object"));
    }
    if (const auto type = schema->find("type"); type != schema->end() && *type != "object") {
        return core::unexpected(
            value_error(param + ".type", "must be 'object': a tool's arguments are an object."));
    }
    if (auto ok = check_output_schema(*schema, param); !ok) {
        return core::unexpected(ok.error());
    }
    return schema->dump();
}

void read_tool_array(object_reader& r, std::vector<core::tool>& out, const char* name_field,
                     const std::function<void(object_reader&, core::tool&)>& read_one) {
    const json* tools = r.raw("tools");
    if (!tools) {
        return;
    }
    if (!tools->is_array() || tools->size() > max_tools) {
        r.fail(type_error("tools", "an array of at most 64 tools"));
        return;
    }
    for (size_t i = 0; i < tools->size(); ++i) {
        const std::string path = "tools[" + std::to_string(i) + "]";
        if (!(*tools)[i].is_object()) {
            r.fail(type_error(path, "an object"));
            return;
        }
        object_reader t((*tools)[i], path);
        core::tool tool;
        tool.param = path;
        read_one(t, tool);
        t.reject_unread();
        if (t.error()) {
            r.fail(*t.error());
            return;
        }
        for (const auto& earlier : out) {
            if (earlier.name == tool.name) {
                r.fail(value_error(path + name_field,
                                   "names the tool '" + tool.name + "' a second time."));
                return;
            }
        }
        out.push_back(std::move(tool));
    }
}

void read_function_fields(object_reader& r, size_t max_name_bytes, const char* schema_key,
                          bool schema_required, core::tool& tool) {
    tool.name = r.string("name").value_or("");
    if (auto ok = check_tool_name(tool.name, max_name_bytes, r.name("name")); !ok && !r.error()) {
        r.fail(ok.error());
    }
    tool.description = r.string("description", max_text_bytes).value_or("");
    const json* schema = r.raw(schema_key);
    if (!schema && schema_required) {
        if (!r.error()) {
            r.fail(missing_error(r.name(schema_key)));
        }
    } else if (auto checked = read_tool_schema(schema, r.name(schema_key))) {
        tool.parameters = std::move(*checked);
    } else if (!r.error()) {
        r.fail(checked.error());
    }
}

core::expected<void> check_call_arguments(const std::string& arguments, const std::string& param) {
    auto parsed = parse_strict_json(arguments, max_json_depth);
    if (!parsed || !parsed->is_object()) {
        return core::unexpected(value_error(param, "must be a JSON object, as text."));
    }
    return {};
}

core::expected<void> check_tool_choice(const core::chat_request& r, const std::string& param) {
    if (r.tool_choice == core::tool_choice::none || r.tool_choice == core::tool_choice::automatic) {
        return {};
    }
    if (r.tools.empty()) {
        return core::unexpected(value_error(param, "names a tool choice, but no tools are given."));
    }
    if (r.tool_choice == core::tool_choice::required) {
        return {};
    }
    for (const auto& tool : r.tools) {
        if (tool.name == r.tool_choice_name) {
            return {};
        }
    }
    return core::unexpected(
        value_error(param, "names the tool '" + r.tool_choice_name + "', which is not in tools."));
}

}  // namespace osprey::api
