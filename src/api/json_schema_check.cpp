#include "api/json_schema_check.hpp"

#include <cmath>
#include <optional>
#include <set>

#include "api/json_fields.hpp"

namespace osprey::api {

namespace {

using json = nlohmann::json;

const std::set<std::string> type_names = {"object",  "array",   "string", "number",
                                          "integer", "boolean", "null"};
// What llama.cpp's converter turns into a grammar; others it would ignore.
const std::set<std::string> format_names = {"date", "time", "date-time", "uuid"};
// Annotations: they change nothing in the output.
const std::set<std::string> annotations = {"title", "description", "$comment", "$schema",
                                           "$id",   "examples",    "default"};

// One walk over a schema. Each check records the first failure and returns
// false, so the walk stops there.
class schema_walk {
public:
    std::optional<core::error> error;

    bool schema(const json& s, const std::string& path, size_t depth) {
        if (++nodes_ > schema_limits::max_nodes) {
            return fail(value_error(path, "the schema has more than " +
                                              std::to_string(schema_limits::max_nodes) +
                                              " subschemas."));
        }
        if (depth > schema_limits::max_depth) {
            return fail(value_error(path, "schemas may nest at most " +
                                              std::to_string(schema_limits::max_depth) +
                                              " levels deep."));
        }
        if (s.is_boolean()) {
            return true;  // true: any value; false: none, which the converter refuses itself
        }
        if (!s.is_object()) {
            return fail(type_error(path, "a schema (an object)"));
        }
        for (const auto& [key, value] : s.items()) {
            if (!keyword(s, key, value, path + "." + key, depth)) {
                return false;
            }
        }
        return bounds(s, path);
    }

private:
    bool fail(core::error e) {
        error = std::move(e);
        return false;
    }

    bool keyword(const json& s, const std::string& key, const json& value, const std::string& path,
                 size_t depth) {
        if (annotations.contains(key)) {
            return true;
        }
        if (key == "type") {
            return types(value, path);
        }
        if (key == "properties") {
            return properties(value, path, depth);
        }
        if (key == "required") {
            return required(s, value, path);
        }
        if (key == "additionalProperties" || key == "items") {
            return schema(value, path, depth + 1);
        }
        if (key == "anyOf" || key == "oneOf" || key == "prefixItems") {
            return branches(value, path, depth);
        }
        if (key == "enum") {
            return enumeration(value, path);
        }
        if (key == "const") {
            return true;
        }
        if (key == "format") {
            return value.is_string() && format_names.contains(value.get<std::string>())
                       ? true
                       : fail(unsupported_error(path,
                                                "osprey takes the formats date, time, "
                                                "date-time and uuid only."));
        }
        if (key == "minLength" || key == "maxLength") {
            return count(value, path, schema_limits::max_string_length);
        }
        if (key == "minItems" || key == "maxItems") {
            return count(value, path, schema_limits::max_array_items);
        }
        if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" ||
            key == "exclusiveMaximum") {
            return value.is_number() ? true : fail(type_error(path, "a number"));
        }
        return fail(unsupported_error(path,
                                      "osprey does not take this keyword in an output "
                                      "schema."));
    }

    bool types(const json& value, const std::string& path) {
        auto known = [](const json& t) {
            return t.is_string() && type_names.contains(t.get<std::string>());
        };
        if (known(value)) {
            return true;
        }
        if (value.is_array() && !value.empty() && value.size() <= type_names.size()) {
            std::set<std::string> seen;
            for (const auto& t : value) {
                if (!known(t) || !seen.insert(t.get<std::string>()).second) {
                    return fail(value_error(path, "must be distinct JSON Schema type names."));
                }
            }
            return true;
        }
        return fail(value_error(path, "must be a JSON Schema type name, or an array of them."));
    }

    bool properties(const json& value, const std::string& path, size_t depth) {
        if (!value.is_object()) {
            return fail(type_error(path, "an object"));
        }
        if (value.size() > schema_limits::max_properties) {
            return fail(value_error(path, "an object may have at most " +
                                              std::to_string(schema_limits::max_properties) +
                                              " properties."));
        }
        for (const auto& [name, sub] : value.items()) {
            if (name.size() > max_name_bytes) {
                return fail(length_error(path, max_name_bytes));
            }
            if (!schema(sub, path + "." + name, depth + 1)) {
                return false;
            }
        }
        return true;
    }

    bool required(const json& s, const json& value, const std::string& path) {
        if (!value.is_array()) {
            return fail(type_error(path, "an array of property names"));
        }
        const json* props = s.contains("properties") ? &s.at("properties") : nullptr;
        std::set<std::string> seen;
        for (const auto& name : value) {
            if (!name.is_string() || !seen.insert(name.get<std::string>()).second) {
                return fail(value_error(path, "must list distinct property names."));
            }
            if (props == nullptr || !props->is_object() || !props->contains(name)) {
                return fail(value_error(path, "names '" + name.get<std::string>() +
                                                  "', which 'properties' does not define."));
            }
        }
        return true;
    }

    bool branches(const json& value, const std::string& path, size_t depth) {
        if (!value.is_array() || value.empty() || value.size() > schema_limits::max_branches) {
            return fail(value_error(path, "must be an array of 1 to " +
                                              std::to_string(schema_limits::max_branches) +
                                              " schemas."));
        }
        for (size_t i = 0; i < value.size(); ++i) {
            if (!schema(value[i], path + "[" + std::to_string(i) + "]", depth + 1)) {
                return false;
            }
        }
        return true;
    }

    bool enumeration(const json& value, const std::string& path) {
        if (!value.is_array() || value.empty() || value.size() > schema_limits::max_enum_values) {
            return fail(value_error(path, "must be an array of 1 to " +
                                              std::to_string(schema_limits::max_enum_values) +
                                              " values."));
        }
        return true;
    }

    bool count(const json& value, const std::string& path, int64_t max) {
        if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > max) {
            return fail(
                value_error(path, "must be an integer from 0 to " + std::to_string(max) + "."));
        }
        return true;
    }

    // Each lower bound at most its upper bound, and a numeric range that
    // some value (some integer, for an integer) can meet.
    bool bounds(const json& s, const std::string& path) {
        auto number = [&](const char* key) -> std::optional<double> {
            return s.contains(key) ? std::optional(s.at(key).get<double>()) : std::nullopt;
        };
        auto ordered = [&](const char* low, const char* high) {
            auto lo = number(low);
            auto hi = number(high);
            return !lo || !hi || *lo <= *hi ||
                   fail(value_error(path + "." + low, std::string("may not exceed ") + high + "."));
        };
        if (!ordered("minLength", "maxLength") || !ordered("minItems", "maxItems")) {
            return false;
        }
        return range(s, path, number);
    }

    template <typename Number>
    bool range(const json& s, const std::string& path, Number number) {
        const bool integer = s.contains("type") && s.at("type") == "integer";
        std::optional<double> lo = number("minimum");
        std::optional<double> hi = number("maximum");
        if (auto x = number("exclusiveMinimum")) {
            lo = integer ? std::floor(*x) + 1 : std::nextafter(*x, INFINITY);
        }
        if (auto x = number("exclusiveMaximum")) {
            hi = integer ? std::ceil(*x) - 1 : std::nextafter(*x, -INFINITY);
        }
        for (auto bound : {lo, hi}) {
            if (integer && bound && std::fabs(*bound) > schema_limits::max_integer_magnitude) {
                return fail(value_error(path, "integer bounds may be at most 1e15 in size."));
            }
        }
        if (integer && lo) {
            lo = std::ceil(*lo);
        }
        if (integer && hi) {
            hi = std::floor(*hi);
        }
        if (lo && hi && *lo > *hi) {
            return fail(value_error(path, "its minimum and maximum leave no value to choose."));
        }
        return true;
    }

    size_t nodes_ = 0;
};

}  // namespace

core::expected<void> check_output_schema(const json& schema, const std::string& path) {
    schema_walk walk;
    if (!walk.schema(schema, path, 0)) {
        return core::unexpected(*walk.error);
    }
    return {};
}

}  // namespace osprey::api
