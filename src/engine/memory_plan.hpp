#pragma once

#include <cstdint>
#include <string>

#include "core/error.hpp"

struct llama_model_params;
struct llama_context_params;

namespace osprey::engine {

// What a context will take before it is created, so that a --ctx-size and
// --parallel that cannot fit are refused with figures rather than failing
// later, half-allocated, or being killed by the kernel once the cache fills.
struct memory_plan {
    uint64_t kv_cache_bytes = 0;   // the KV cache (or recurrent state), all sequences
    uint64_t compute_bytes = 0;    // llama.cpp's compute buffers for one batch
    uint64_t available_bytes = 0;  // host memory the system could give now
};

// Measures the plan with llama.cpp's own accounting: the model's metadata and
// a context built with `no_alloc`, which allocates nothing. Errors:
// invalid_value when llama.cpp cannot build that context, or when the plan
// does not fit the memory available; the internal detail says which figures
// and what to lower.
core::expected<memory_plan> plan_memory(const std::string& model_path,
                                        const llama_model_params& model_params,
                                        const llama_context_params& context_params);

// Host memory available now: MemAvailable, within the cgroup's limit when
// one is set. Zero when /proc/meminfo cannot be read.
uint64_t available_host_memory();

}  // namespace osprey::engine
