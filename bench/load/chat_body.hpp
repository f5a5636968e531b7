#pragma once

#include <cstdint>
#include <string>

#include "bench/load/options.hpp"

namespace osprey::bench::load {

// The JSON body of request `index`: a streamed chat completion with usage in its last chunk,
// one user message from make_prompt, and the sampling settings of `o`. Both servers get the
// same bytes for the same index and seed.
std::string make_chat_body(const options& o, uint64_t index);

}  // namespace osprey::bench::load
