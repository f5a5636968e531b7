#include "api/json_fields.hpp"

#include "api/strict_json.hpp"

#include <cmath>
#include <cstdio>

namespace osprey::api {

core::error missing_error(const std::string& param) {
    return core::make_error(core::error_code::missing_parameter,
                            "Missing required parameter: '" + param + "'.", param);
}

core::error type_error(const std::string& param, const char* expected) {
    return core::make_error(core::error_code::invalid_type,
                            "Invalid type for '" + param + "': expected " + expected + ".", param);
}

core::error value_error(const std::string& param, const std::string& message) {
    return core::make_error(core::error_code::invalid_value,
                            "Invalid value for '" + param + "': " + message, param);
}

core::error length_error(const std::string& param, size_t max_bytes) {
    return core::make_error(
        core::error_code::invalid_value,
        "Invalid value for '" + param + "': at most " + std::to_string(max_bytes) + " bytes.",
        param);
}

core::error unsupported_error(const std::string& param, const std::string& message) {
    return core::make_error(core::error_code::unsupported_parameter,
                            "Unsupported parameter '" + param + "': " + message, param);
}

const json* message_array(object_reader& r) {
    const json* messages = r.raw("messages");
    if (!messages) {
        r.fail(missing_error("messages"));
    } else if (!messages->is_array()) {
        r.fail(type_error("messages", "an array of messages"));
    } else if (messages->empty()) {
        r.fail(value_error("messages", "at least one message is required."));
    } else if (messages->size() > max_messages) {
        r.fail(value_error("messages", "at most " + std::to_string(max_messages) +
                                           " messages are allowed in one request."));
    } else {
        return messages;
    }
    return nullptr;
}

core::expected<json> parse_body(const std::string& body) {
    auto parsed = parse_strict_json(body, max_json_depth);
    if (!parsed) {
        return core::unexpected(parsed.error());
    }
    if (!parsed->is_object()) {
        return core::unexpected(core::make_error(core::error_code::invalid_json,
                                                 "The request body must be a JSON object."));
    }
    return parsed;
}

object_reader::object_reader(const json& object, std::string path)
    : object_(object), path_(std::move(path)) {}

std::string object_reader::name(const char* key) const {
    return path_.empty() ? std::string(key) : path_ + "." + key;
}

void object_reader::fail(core::error e) {
    if (!error_) {
        error_ = std::move(e);
    }
}

const json* object_reader::raw(const char* key) {
    read_.insert(key);
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) {
        return nullptr;
    }
    return &*it;
}

std::optional<std::string> object_reader::string(const char* key, size_t max_bytes) {
    const json* v = raw(key);
    if (!v) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        fail(type_error(name(key), "a string"));
        return std::nullopt;
    }
    if (v->get_ref<const std::string&>().size() > max_bytes) {
        fail(length_error(name(key), max_bytes));
        return std::nullopt;
    }
    return v->get<std::string>();
}

std::optional<bool> object_reader::boolean(const char* key) {
    const json* v = raw(key);
    if (!v) {
        return std::nullopt;
    }
    if (!v->is_boolean()) {
        fail(type_error(name(key), "a boolean"));
        return std::nullopt;
    }
    return v->get<bool>();
}

std::optional<int64_t> object_reader::integer(const char* key, int64_t min, int64_t max) {
    const json* v = raw(key);
    if (!v) {
        return std::nullopt;
    }
    // JSON has one number type: 3.0 is accepted as an integer, 3.5 is not.
    const bool integral =
        v->is_number_integer() ||
        (v->is_number_float() && std::trunc(v->get<double>()) == v->get<double>());
    if (!integral) {
        fail(type_error(name(key), "an integer"));
        return std::nullopt;
    }
    const double as_double = v->get<double>();
    // 2^63 itself rounds into the int64 range as a double; past it a cast is
    // undefined.
    if (v->is_number_float() && (as_double >= 0x1p63 || as_double < -0x1p63)) {
        fail(value_error(name(key), "the number is out of range."));
        return std::nullopt;
    }
    // nlohmann reads every non-negative integer as unsigned.
    bool in_range = false;
    if (v->is_number_unsigned()) {
        const uint64_t u = v->get<uint64_t>();
        in_range = (min <= 0 || u >= static_cast<uint64_t>(min)) && u <= static_cast<uint64_t>(max);
    } else if (v->is_number_integer()) {
        in_range = v->get<int64_t>() >= min && v->get<int64_t>() <= max;
    } else {
        in_range = as_double >= static_cast<double>(min) && as_double <= static_cast<double>(max);
    }
    if (!in_range) {
        fail(value_error(name(key), "must be between " + std::to_string(min) + " and " +
                                        std::to_string(max) + "."));
        return std::nullopt;
    }
    return v->is_number_float() ? static_cast<int64_t>(as_double) : v->get<int64_t>();
}

std::optional<double> object_reader::number(const char* key, double min, double max) {
    const json* v = raw(key);
    if (!v) {
        return std::nullopt;
    }
    if (!v->is_number()) {
        fail(type_error(name(key), "a number"));
        return std::nullopt;
    }
    const double value = v->get<double>();
    if (!std::isfinite(value) || value < min || value > max) {
        char range[96];
        std::snprintf(range, sizeof range, "must be between %g and %g.", min, max);
        fail(value_error(name(key), range));
        return std::nullopt;
    }
    return value;
}

void object_reader::reject_unread(const std::set<std::string>& ignored) {
    for (const auto& [key, value] : object_.items()) {
        if (read_.count(key) == 0 && ignored.count(key) == 0) {
            const std::string param = path_.empty() ? key : path_ + "." + key;
            fail(core::make_error(core::error_code::unknown_parameter,
                                  "Unrecognized request argument supplied: '" + param + "'.",
                                  param));
            return;
        }
    }
}

}  // namespace osprey::api
