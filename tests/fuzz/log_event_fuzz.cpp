// The escaping of structured log values (src/core/log.cpp), in both output
// formats, with fuzzed values: any bytes a client sends (a path, a header, a
// model name) may become a value. Whatever they are, an event stays on one
// line with no control byte nor Unicode line break, its text form is UTF-8,
// and a JSON event stays JSON whose values are
// the client's bytes with only broken UTF-8 replaced.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "core/utf8.hpp"
#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

using namespace osprey;

// No ASCII control, and none of the characters that some readers break
// lines at: NEL, U+2028, U+2029.
void check_one_line(const std::string& line) {
    for (const unsigned char c : line) {
        OSPREY_FUZZ_CHECK(c >= 0x20 && c != 0x7f);
    }
    for (const char* line_break : {"\xc2\x85", "\xe2\x80\xa8", "\xe2\x80\xa9"}) {
        OSPREY_FUZZ_CHECK(line.find(line_break) == std::string::npos);
    }
}

void check_json(const std::string& line, const std::string& a, const std::string& b) {
    check_one_line(line);
    const auto parsed = nlohmann::json::parse("{" + line + "}", nullptr, false);
    OSPREY_FUZZ_CHECK(parsed.is_object());
    OSPREY_FUZZ_CHECK(parsed.value("event", "") == "fuzz.event");
    OSPREY_FUZZ_CHECK(parsed.value("a", "") == core::sanitize_utf8(a));
    OSPREY_FUZZ_CHECK(parsed.value("b", "") == core::sanitize_utf8(b));
    OSPREY_FUZZ_CHECK(parsed.value("n", -1) == 7);
}

// Outside the fuzzer, configure() runs once before any thread logs; here an
// input may switch the format, on the one fuzzing thread, only when it
// differs from the last input's, since configure() rebuilds spdlog's pattern.
void use_format(core::log::format f) {
    static std::optional<core::log::format> current;
    if (current != f) {
        core::log::configure(f, spdlog::level::off);
        current = f;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    fuzz::fuzz_input in(data, size);
    const bool json = in.take_bool();
    const std::string a = in.take_string();
    const std::string b = in.take_rest();

    use_format(json ? core::log::format::json : core::log::format::text);
    if (json) {
        check_json(core::log::format_event("fuzz.event", {{"a", a}, {"b", b}, {"n", 7}}), a, b);
        return 0;
    }
    const std::string line = core::log::format_event("fuzz.event", {{"a", a}, {"b", b}});
    check_one_line(line);
    OSPREY_FUZZ_CHECK(core::sanitize_utf8(line) == line);
    OSPREY_FUZZ_CHECK(line.rfind("fuzz.event a=", 0) == 0);
    return 0;
}
