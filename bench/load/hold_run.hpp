#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/load/options.hpp"

namespace osprey::bench::load {

// What the idle-streams run saw. Memory fields are empty without --server-pid.
struct hold_outcome {
    int streams = 0;
    int open = 0;               // a 200 header came
    int refused = 0;            // another status came
    int failed = 0;             // no header: connection error or timeout
    int ended_during_hold = 0;  // open streams the server ended, or that broke, before the close
    std::map<int, int> refused_by_status;
    std::vector<std::string> refusal_samples;  // status and the start of the body
    std::vector<std::string> error_samples;
    double headers_s = 0;  // from the first connect until every stream had its header or failed
    std::optional<int64_t> rss_before_kib;  // before the first connect
    std::optional<int64_t> rss_held_kib;    // once every stream had its header
    std::optional<int64_t> rss_end_kib;     // at the end of the hold, before the close
    bool connected = false;
};

// Opens `o.concurrency` streamed requests at once, waits for every response header, holds the
// open streams, reading, for `*o.hold_s` seconds, then closes them all. Blocks until done.
hold_outcome run_hold(const options& o);

}  // namespace osprey::bench::load
