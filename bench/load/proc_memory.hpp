#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace osprey::bench::load {

// Clears the kernel's peak-RSS mark of process `pid` (writes "5" to /proc/PID/clear_refs, Linux
// 4.0 and later), so that VmHWM read afterwards covers only what follows. False when the write
// failed (no such process, no permission); the caller goes on with the older peak.
bool reset_peak_rss(int pid);

// One "kB" field of /proc/PID/status, such as VmRSS or VmHWM, in KiB; nullopt when the process
// is gone or the field is missing.
std::optional<int64_t> read_status_kib(int pid, std::string_view field);

// The same, from the text of a status file: the parsing alone, for tests.
std::optional<int64_t> parse_status_kib(std::string_view status, std::string_view field);

}  // namespace osprey::bench::load
