#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "bench/load/hold_run.hpp"
#include "bench/load/load_run.hpp"
#include "bench/load/options.hpp"

namespace osprey::bench::load {

// The JSON report of a throughput run. Latency and token figures come from the successful
// requests alone; a failed request counts only in `errors`. `peak_rss_kib` is the server's
// VmHWM after the run, when known.
nlohmann::json make_load_report(const options& o, const load_outcome& outcome,
                                std::optional<int64_t> peak_rss_kib);

// The JSON report of an idle-streams run.
nlohmann::json make_hold_report(const options& o, const hold_outcome& outcome);

// One line for a person, from either report.
std::string summary_line(const nlohmann::json& report);

}  // namespace osprey::bench::load
