// The bytes of an SSE stream, from the engine's events to the wire. The
// OpenAI formatter turns fuzzed deltas (any bytes as text and as tokens,
// odd logprobs, any index), finishes, errors and usage into event payloads;
// each payload is then framed as src/http/session.cpp frames it and read
// back as a client's SSE parser would. A payload with a line break, or one
// that is not UTF-8 and JSON, would end an event early or forge one.
// The framing is the HTTP layer's own `http::sse_event`.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/openai_format.hpp"
#include "core/utf8.hpp"
#include "fuzz_check.hpp"
#include "fuzz_input.hpp"
#include "http/sse.hpp"

namespace {

using namespace osprey;
using fuzz::fuzz_input;

// The data of each event in `stream`, read as the SSE specification reads it:
// lines end at CRLF, LF or CR; "data:" drops one leading space; a blank line
// ends the event.
std::vector<std::string> read_events(std::string_view stream) {
    std::vector<std::string> events;
    std::string data;
    bool has_data = false;
    while (!stream.empty()) {
        const std::size_t end = std::min(stream.find_first_of("\r\n"), stream.size());
        std::string_view line = stream.substr(0, end);
        std::size_t next = end + 1;
        if (end + 1 < stream.size() && stream[end] == '\r' && stream[end + 1] == '\n') {
            next = end + 2;
        }
        stream.remove_prefix(std::min(next, stream.size()));

        if (line.empty()) {
            if (has_data) {
                events.push_back(data);
            }
            data.clear();
            has_data = false;
        } else if (line.rfind("data:", 0) == 0) {
            line.remove_prefix(5);
            if (!line.empty() && line.front() == ' ') {
                line.remove_prefix(1);
            }
            data += has_data ? "\n" + std::string(line) : std::string(line);
            has_data = true;
        }
    }
    return events;
}

void check_payload(const std::string& payload) {
    OSPREY_FUZZ_CHECK(payload.find_first_of("\r\n") == std::string::npos);
    OSPREY_FUZZ_CHECK(core::sanitize_utf8(payload) == payload);
    if (payload != "[DONE]") {
        const auto parsed = nlohmann::json::parse(payload, nullptr, false);
        OSPREY_FUZZ_CHECK(parsed.is_object());
    }
    const auto events = read_events(http::sse_event(payload));
    OSPREY_FUZZ_CHECK(events.size() == 1 && events.front() == payload);
}

float take_logprob(fuzz_input& in) {
    constexpr float odd[] = {
        std::numeric_limits<float>::quiet_NaN(),  -std::numeric_limits<float>::infinity(),
        std::numeric_limits<float>::infinity(),   -0.0f,
        std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::max()};
    const uint8_t b = in.take_byte();
    return b < 6 ? odd[b] : -static_cast<float>(b) / 7.0f;
}

std::vector<core::token_logprob> take_logprobs(fuzz_input& in) {
    std::vector<core::token_logprob> out(in.take_byte() % 4);
    for (auto& entry : out) {
        entry.token = in.take_string();
        entry.logprob = take_logprob(in);
        entry.top.resize(in.take_byte() % 4);
        for (auto& alt : entry.top) {
            alt.token = in.take_string();
            alt.logprob = take_logprob(in);
        }
    }
    return out;
}

core::error take_error(fuzz_input& in) {
    const auto code = static_cast<core::error_code>(
        in.take_byte() % (static_cast<int>(core::error_code::unavailable) + 1));
    // One statement per take: the order of a call's arguments is unspecified.
    core::error e = core::make_error(code, in.take_string());
    e.param = in.take_string();
    e.internal_detail = in.take_string();
    return e;
}

// One step of a stream: a delta, a finish, an error or the end.
void run_step(fuzz_input& in, api::formatter& f) {
    const uint8_t op = in.take_byte();
    const int32_t index = static_cast<int8_t>(in.take_byte());
    switch (op % 4) {
    case 0: {
        core::text_delta delta{index, in.take_string(), {}};
        delta.logprobs = take_logprobs(in);
        check_payload(f.stream_delta(delta));
        break;
    }
    case 1: {
        const auto reason =
            in.take_bool() ? core::finish_reason::length : core::finish_reason::stop;
        check_payload(f.stream_finish({index, reason, index, index * 3}));
        break;
    }
    case 2: check_payload(f.stream_error(take_error(in))); break;
    default: {
        // Counts as large as a context allows (2^24 tokens), not more: the
        // engine never reports more than fits one context.
        api::completion_result result;
        result.prompt_tokens = in.take_byte() << 16;
        result.completion_tokens = in.take_byte() << 16;
        for (const auto& payload : f.stream_end(result)) {
            check_payload(payload);
        }
    }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    fuzz_input in(data, size);
    const uint8_t flags = in.take_byte();
    const auto kind =
        (flags & 1) ? api::openai::endpoint::completions : api::openai::endpoint::chat;
    auto f =
        api::openai::make_formatter(kind, in.take_string(), (flags & 2) != 0, (flags & 4) != 0);

    for (const auto& payload : f->stream_start(in.take_byte() % 9)) {
        check_payload(payload);
    }
    // A few steps are enough to reach every formatter state (offsets carried
    // from delta to delta among them); thousands would only slow the run.
    for (int step = 0; step < 16 && !in.empty(); ++step) {
        run_step(in, *f);
    }
    return 0;
}
