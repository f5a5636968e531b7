// The bytes of an SSE stream, from the engine's events to the wire. The
// OpenAI, Anthropic and Responses formatters turn fuzzed deltas (any bytes as text and
// as tokens, odd logprobs, any index), finishes (any stop sequence),
// errors and usage into events; each event is then framed as
// src/http/session.cpp frames it and read back as a client's SSE parser
// would. Data with a line break, or data that is not UTF-8 and JSON, would
// end an event early or forge one; so would a name that is not a plain word.
// The framing is the HTTP layer's own `http::sse_event`.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/anthropic_format.hpp"
#include "api/openai_format.hpp"
#include "api/responses_format.hpp"
#include "core/utf8.hpp"
#include "fuzz_check.hpp"
#include "fuzz_input.hpp"
#include "http/sse.hpp"

namespace {

using namespace osprey;
using fuzz::fuzz_input;

struct read_event {
    std::string name;
    std::string data;
};

// Each event in `stream`, read as the SSE specification reads it: lines end
// at CRLF, LF or CR; a field's value drops one leading space; a blank line
// ends the event.
std::vector<read_event> read_events(std::string_view stream) {
    std::vector<read_event> events;
    read_event current;
    bool has_data = false;
    while (!stream.empty()) {
        const std::size_t end = std::min(stream.find_first_of("\r\n"), stream.size());
        std::string_view line = stream.substr(0, end);
        std::size_t next = end + 1;
        if (end + 1 < stream.size() && stream[end] == '\r' && stream[end + 1] == '\n') {
            next = end + 2;
        }
        stream.remove_prefix(std::min(next, stream.size()));

        auto value = [&line](std::size_t field) {
            line.remove_prefix(field);
            if (!line.empty() && line.front() == ' ') {
                line.remove_prefix(1);
            }
            return std::string(line);
        };
        if (line.empty()) {
            if (has_data) {
                events.push_back(current);
            }
            current = {};
            has_data = false;
        } else if (line.rfind("data:", 0) == 0) {
            current.data += has_data ? "\n" + value(5) : value(5);
            has_data = true;
        } else if (line.rfind("event:", 0) == 0) {
            current.name = value(6);
        }
    }
    return events;
}

void check_events(const std::vector<api::stream_event>& events) {
    for (const auto& e : events) {
        OSPREY_FUZZ_CHECK(e.data.find_first_of("\r\n") == std::string::npos);
        // Anthropic's names are words ("message_start"), the Responses
        // API's dotted words ("response.output_text.delta").
        OSPREY_FUZZ_CHECK(e.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_.") ==
                          std::string::npos);
        OSPREY_FUZZ_CHECK(core::sanitize_utf8(e.data) == e.data);
        if (e.data != "[DONE]") {
            const auto parsed = nlohmann::json::parse(e.data, nullptr, false);
            OSPREY_FUZZ_CHECK(parsed.is_object());
            // Anthropic's events name themselves twice, and must agree.
            if (!e.name.empty()) {
                OSPREY_FUZZ_CHECK(parsed.value("type", "") == e.name);
            }
        }
        const auto read = read_events(http::sse_event(e.data, e.name));
        OSPREY_FUZZ_CHECK(read.size() == 1 && read.front().data == e.data &&
                          read.front().name == e.name);
    }
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
        core::text_delta delta;
        delta.index = index;
        delta.text = in.take_string();
        delta.logprobs = take_logprobs(in);
        delta.reasoning = in.take_string();
        // Tool call pieces: a call's first carries its id and name, later ones arguments.
        for (uint8_t n = in.take_byte() % 4; n > 0; --n) {
            core::tool_call_delta call;
            call.call = in.take_byte() % 8;
            if (in.take_bool()) {
                call.id = in.take_string();
                call.name = in.take_string();
            }
            call.arguments = in.take_string();
            delta.tool_calls.push_back(std::move(call));
        }
        check_events(f.stream_delta(delta));
        break;
    }
    case 1: {
        const auto reason = static_cast<core::finish_reason>(in.take_byte() % 3);
        check_events(
            f.stream_finish({index, reason, in.take_string(), index, index / 2, index * 3}));
        break;
    }
    case 2: check_events(f.stream_error(take_error(in))); break;
    default: {
        // Counts as large as a context allows (2^24 tokens), not more: the
        // engine never reports more than fits one context.
        api::completion_result result;
        result.prompt_tokens = in.take_byte() << 16;
        result.completion_tokens = in.take_byte() << 16;
        check_events(f.stream_end(result));
    }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    fuzz_input in(data, size);
    const uint8_t flags = in.take_byte();
    const auto kind =
        (flags & 1) ? api::openai::endpoint::completions : api::openai::endpoint::chat;
    std::unique_ptr<api::formatter> f;
    if (flags & 16) {
        f = api::responses::make_formatter(api::responses::responses_request{}, in.take_string(),
                                           nlohmann::json::array(), nullptr);
    } else if (flags & 8) {
        f = api::anthropic::make_formatter(in.take_string());
    } else {
        f = api::openai::make_formatter(kind, in.take_string(), (flags & 2) != 0, (flags & 4) != 0);
    }
    if (flags & 32) {
        f->expect_parts();  // reasoning, text and tool calls in any order
    }

    const int32_t n = in.take_byte() % 9;
    check_events(f->stream_start(n, in.take_byte() << 16));
    // A few steps are enough to reach every formatter state (offsets carried
    // from delta to delta among them); thousands would only slow the run.
    for (int step = 0; step < 16 && !in.empty(); ++step) {
        run_step(in, *f);
    }
    return 0;
}
