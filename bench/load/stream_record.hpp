#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/load/sse_parser.hpp"

namespace osprey::bench::load {

using clock_type = std::chrono::steady_clock;

// What one streamed chat completion did, as seen from the client.
struct stream_record {
    int status = 0;                   // HTTP status; 0 when no response header came
    clock_type::time_point started;   // just before the request was written
    clock_type::time_point sent;      // when its last byte was written
    clock_type::time_point finished;  // when the response ended or failed
    std::vector<clock_type::time_point> content_times;  // arrival of each non-empty content delta
    std::optional<int64_t> completion_tokens;           // from the usage chunk
    std::optional<int64_t> prompt_tokens;
    bool done = false;  // "data: [DONE]" arrived
    std::string error;  // the first failure, printable; empty while there is none
};

// Folds one event of an OpenAI chat completion stream, which arrived at `at`, into `record`:
// content deltas of the first choice, usage, [DONE], or an error. A malformed event is recorded
// as the record's error, never thrown.
void apply_event(const sse_event& event, clock_type::time_point at, stream_record& record);

// Sets `record`'s error unless it already has one: the first failure is the one that explains.
void fail(stream_record& record, std::string message);

// A 200 response, ended by [DONE], with no failure on the way.
bool succeeded(const stream_record& record);

// At most `limit` bytes of `text`, for error samples, with "..." where it was cut.
std::string clip(std::string_view text, std::size_t limit = 200);

}  // namespace osprey::bench::load
