#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include <spdlog/spdlog.h>

// Structured logging: every line is an event name followed by key=value
// fields (or one JSON object per line). Values are escaped here, so a client
// that puts quotes or newlines into a header cannot forge a log line.
//
// Never pass secrets, prompts, completions or media bytes as field values.
namespace osprey::core::log {

enum class format { text, json };

// Installs the one stderr sink that every component logger writes to.
// Call once at start-up, before any other thread logs.
void configure(format f, spdlog::level::level_enum level);

// The logger of one component ("http", "engine", ...), created on first use.
// Thread-safe.
std::shared_ptr<spdlog::logger> get(const std::string& component);

class field {
public:
    field(std::string_view key, std::string_view value);
    field(std::string_view key, const std::string& value);
    field(std::string_view key, const char* value);
    field(std::string_view key, bool value);
    field(std::string_view key, double value);
    template <typename T>
    requires std::is_integral_v<T> field(std::string_view key, T value)
        : key_(key), value_(std::to_string(value)), raw_(true) {}

    std::string_view key() const { return key_; }
    const std::string& value() const { return value_; }
    // Raw values (numbers, booleans) are written without quotes in JSON.
    bool raw() const { return raw_; }

private:
    std::string_view key_;
    std::string value_;
    bool raw_ = false;
};

// Formats one event for the configured format, without the time and level.
std::string format_event(std::string_view event, std::initializer_list<field> fields);

void write(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view event,
           std::initializer_list<field> fields = {});

inline void debug(spdlog::logger& l, std::string_view e, std::initializer_list<field> f = {}) {
    write(l, spdlog::level::debug, e, f);
}
inline void info(spdlog::logger& l, std::string_view e, std::initializer_list<field> f = {}) {
    write(l, spdlog::level::info, e, f);
}
inline void warn(spdlog::logger& l, std::string_view e, std::initializer_list<field> f = {}) {
    write(l, spdlog::level::warn, e, f);
}
inline void error(spdlog::logger& l, std::string_view e, std::initializer_list<field> f = {}) {
    write(l, spdlog::level::err, e, f);
}

}  // namespace osprey::core::log
