#pragma once

#include <string>
#include <vector>

#include "bench/load/options.hpp"
#include "bench/load/stream_record.hpp"

namespace osprey::bench::load {

// The records of a throughput run, one per request in request order.
struct load_outcome {
    std::vector<stream_record> records;
    std::vector<std::string> error_samples;  // the first few failures, in the order they came
    bool connected = false;                  // some connection to the server was made
};

// Runs `o.requests` streamed requests from `o.concurrency` clients, each with its own
// keep-alive connection, on one thread. Blocks until every request has ended.
load_outcome run_load(const options& o);

}  // namespace osprey::bench::load
