#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>

#include "core/utf8.hpp"

namespace osprey::core::log {

namespace {

std::atomic<format> current_format{format::text};

spdlog::sink_ptr shared_sink() {
    static spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    return sink;
}

std::string pattern_for(format f) {
    if (f == format::json) {
        return R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","component":"%n",%v})";
    }
    return "%Y-%m-%dT%H:%M:%S.%e %l %n %v";
}

// The characters besides the ASCII controls that some readers take for a
// line break: NEL (U+0085) and the line and paragraph separators (U+2028,
// U+2029). Returns the escape for the one starting at `at`, if one does.
const char* line_break_escape(std::string_view s, size_t at) {
    const std::string_view rest = s.substr(at);
    if (rest.starts_with("\xc2\x85")) {
        return "\\u0085";
    }
    if (rest.starts_with("\xe2\x80\xa8")) {
        return "\\u2028";
    }
    if (rest.starts_with("\xe2\x80\xa9")) {
        return "\\u2029";
    }
    return nullptr;
}

void append_json_string(std::string& out, std::string_view raw) {
    // A client's bytes (a path, a header) may be any bytes; a JSON line must
    // be UTF-8 to parse at all.
    const std::string s = sanitize_utf8(raw);
    out += '"';
    for (size_t i = 0; i < s.size(); ++i) {
        if (const char* escape = line_break_escape(s, i)) {
            out += escape;
            i += s[i] == '\xc2' ? 1 : 2;
            continue;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

// Anything but printable ASCII is quoted, and so written as JSON escapes
// it: broken UTF-8 replaced, and no byte that any reader takes for a break.
bool needs_quotes(std::string_view s) {
    if (s.empty()) {
        return true;
    }
    for (unsigned char c : s) {
        if (c <= 0x20 || c == '"' || c == '=' || c == '\\' || c >= 0x7f) {
            return true;
        }
    }
    return false;
}

void append_text_value(std::string& out, std::string_view s) {
    if (needs_quotes(s)) {
        append_json_string(out, s);
    } else {
        out += s;
    }
}

}  // namespace

field::field(std::string_view key, std::string_view value) : key_(key), value_(value) {}
field::field(std::string_view key, const std::string& value) : key_(key), value_(value) {}
field::field(std::string_view key, const char* value) : key_(key), value_(value ? value : "") {}
field::field(std::string_view key, bool value)
    : key_(key), value_(value ? "true" : "false"), raw_(true) {}
field::field(std::string_view key, double value) : key_(key), raw_(true) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", value);
    value_ = buf;
}

void configure(format f, spdlog::level::level_enum level) {
    current_format = f;
    shared_sink()->set_pattern(pattern_for(f));
    spdlog::set_level(level);
    spdlog::apply_all([level](const std::shared_ptr<spdlog::logger>& l) { l->set_level(level); });
}

std::shared_ptr<spdlog::logger> get(const std::string& component) {
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    if (auto existing = spdlog::get(component)) {
        return existing;
    }
    auto logger = std::make_shared<spdlog::logger>(component, shared_sink());
    logger->set_level(spdlog::get_level());
    spdlog::register_logger(logger);
    return logger;
}

std::string format_event(std::string_view event, std::initializer_list<field> fields) {
    std::string out;
    if (current_format == format::json) {
        out += "\"event\":";
        append_json_string(out, event);
        for (const auto& f : fields) {
            out += ',';
            append_json_string(out, f.key());
            out += ':';
            if (f.raw()) {
                out += f.value();
            } else {
                append_json_string(out, f.value());
            }
        }
        return out;
    }
    out += event;
    for (const auto& f : fields) {
        out += ' ';
        out += f.key();
        out += '=';
        append_text_value(out, f.value());
    }
    return out;
}

void write(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view event,
           std::initializer_list<field> fields) {
    if (!logger.should_log(level)) {
        return;
    }
    logger.log(level, "{}", format_event(event, fields));
}

}  // namespace osprey::core::log
