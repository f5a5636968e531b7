#pragma once

#include <cstdint>
#include <string>

#include <tl/expected.hpp>

namespace osprey::bench::load {

// Raises this process's soft limit on open files to at least `needed`, up to the hard limit,
// since each stream holds a socket and the usual soft limit (1024) is below what the
// idle-streams mode opens. Fails, with a printable reason, when the hard limit is too low.
tl::expected<void, std::string> raise_open_file_limit(uint64_t needed);

}  // namespace osprey::bench::load
