#include "api/strict_json.hpp"

#include <optional>
#include <set>
#include <vector>

namespace osprey::api {

namespace {

using json = nlohmann::json;

// Builds the value as nlohmann's own DOM builder would, checking each key
// and the depth as they come.
class strict_builder : public nlohmann::json_sax<json> {
public:
    explicit strict_builder(size_t max_depth) : max_depth_(max_depth) {}

    bool null() override { return add(nullptr); }
    bool boolean(bool v) override { return add(v); }
    bool number_integer(number_integer_t v) override { return add(v); }
    bool number_unsigned(number_unsigned_t v) override { return add(v); }
    bool number_float(number_float_t v, const string_t&) override { return add(v); }
    bool string(string_t& v) override { return add(std::move(v)); }
    bool binary(binary_t&) override { return fail("binary values are not JSON"); }

    bool start_object(std::size_t) override { return open(json::object()); }
    bool start_array(std::size_t) override { return open(json::array()); }
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }

    bool key(string_t& k) override {
        frame& f = stack_.back();
        if (k.find('\0') != std::string::npos) {
            pending_key_.reset();  // the path names the object, not the key
            return fail("an object key holds a NUL byte", path());
        }
        if (!f.keys.insert(k).second) {
            pending_key_ = std::move(k);
            const std::string where = path();
            return fail("the key '" + where + "' appears twice in one object", where);
        }
        pending_key_ = std::move(k);
        return true;
    }

    bool parse_error(std::size_t position, const std::string&,
                     const nlohmann::detail::exception& e) override {
        const std::string what = e.what();
        const char* reason = what.find("UTF-8") != std::string::npos ? "invalid UTF-8"
                             : what.find("surrogate") != std::string::npos
                                 ? "a lone UTF-16 surrogate in a \\u escape"
                                 : "a syntax error";
        return fail(std::string(reason) + " at byte " + std::to_string(position));
    }

    std::optional<core::error> error;
    json result;

private:
    struct frame {
        json* value;
        std::set<std::string> keys;
    };

    // Where the next value goes: the pending key of the innermost object, or
    // the end of the innermost array, or the root.
    json* slot() {
        if (stack_.empty()) {
            return &result;
        }
        json& parent = *stack_.back().value;
        return parent.is_object() ? &parent[*pending_key_] : &parent.emplace_back();
    }

    bool add(json v) {
        *slot() = std::move(v);
        return true;
    }

    bool open(json empty) {
        if (stack_.size() >= max_depth_) {
            return fail("it nests deeper than " + std::to_string(max_depth_) + " levels");
        }
        json* v = slot();
        *v = std::move(empty);
        stack_.push_back({v, {}});
        return true;
    }

    bool close() {
        stack_.pop_back();
        return true;
    }

    // The dotted path to the pending key: "messages[0].role".
    std::string path() const {
        std::string out;
        for (size_t i = 0; i < stack_.size(); ++i) {
            const json& v = *stack_[i].value;
            if (i + 1 < stack_.size()) {
                // The child is the last member added to this container.
                if (v.is_array()) {
                    out += "[" + std::to_string(v.size() - 1) + "]";
                } else {
                    out += (out.empty() ? "" : ".") + last_key(v, *stack_[i + 1].value);
                }
            }
        }
        if (!pending_key_) {
            return out;
        }
        return out + (out.empty() ? "" : ".") + *pending_key_;
    }

    static std::string last_key(const json& object, const json& child) {
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (&*it == &child) {
                return it.key();
            }
        }
        return "?";
    }

    bool fail(std::string why, std::string param = {}) {
        if (!error) {
            error = core::make_error(core::error_code::invalid_json,
                                     "The request body is not valid JSON: " + why + ".",
                                     std::move(param));
        }
        return false;
    }

    const size_t max_depth_;
    std::vector<frame> stack_;
    std::optional<std::string> pending_key_;
};

}  // namespace

core::expected<json> parse_strict_json(const std::string& body, size_t max_depth) {
    strict_builder builder(max_depth);
    const bool ok = json::sax_parse(body, &builder, json::input_format_t::json, true, false);
    if (!ok || builder.error) {
        return core::unexpected(builder.error.value_or(core::make_error(
            core::error_code::invalid_json, "The request body is not valid JSON.")));
    }
    return std::move(builder.result);
}

}  // namespace osprey::api
