#include "engine/memory_plan.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <common/fit.h>
#include <llama.h>

namespace osprey::engine {

namespace {

constexpr uint64_t mib = uint64_t{1} << 20;

// Besides the cache itself, llama.cpp keeps about 48 bytes of bookkeeping
// per KV cell and allocates it even for a no_alloc plan: a context too large
// for that is refused before planning, which would otherwise exhaust memory.
constexpr uint64_t cell_bookkeeping_bytes = 64;

core::error plan_error(std::string detail) {
    core::error e =
        core::make_error(core::error_code::invalid_value, "the context does not fit in memory");
    e.internal_detail = std::move(detail);
    return e;
}

// One number from a file that holds one, like the cgroup's memory.max;
// `none` when the file is missing or says "max".
uint64_t read_number(const char* path, uint64_t none) {
    std::ifstream in(path);
    std::string word;
    if (!(in >> word) || word == "max") {
        return none;
    }
    try {
        return std::stoull(word);
    } catch (const std::exception&) {
        return none;
    }
}

uint64_t meminfo_available() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    uint64_t kib = 0;
    std::string unit;
    while (in >> key >> kib) {
        std::getline(in, unit);
        if (key == "MemAvailable:") {
            return kib * 1024;
        }
    }
    return 0;
}

std::string in_mib(uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / mib);
    return text;
}

}  // namespace

uint64_t available_host_memory() {
    uint64_t available = meminfo_available();
    // In a container the cgroup's limit, not the machine's memory, is what
    // the kernel enforces.
    const uint64_t limit = read_number("/sys/fs/cgroup/memory.max", UINT64_MAX);
    if (limit != UINT64_MAX) {
        const uint64_t used = read_number("/sys/fs/cgroup/memory.current", 0);
        available = std::min(available, limit > used ? limit - used : 0);
    }
    return available;
}

core::expected<memory_plan> plan_memory(const std::string& model_path,
                                        const llama_model_params& model_params,
                                        const llama_context_params& context_params) {
    const uint64_t available = available_host_memory();
    const uint64_t cells = context_params.n_ctx;
    if (available > 0 && cells * cell_bookkeeping_bytes > available / 2) {
        return core::unexpected(plan_error("a KV cache of " + std::to_string(cells) +
                                           " tokens cannot fit: its bookkeeping alone " +
                                           "would take " + in_mib(cells * cell_bookkeeping_bytes) +
                                           " of the " + in_mib(available) +
                                           " available; lower --ctx-size or --parallel"));
    }

    std::vector<ggml_backend_dev_t> devices;
    uint32_t n_gpu_layers = 0;
    uint32_t n_ctx_train = 0;
    uint32_t n_expert = 0;
    common_device_memory_data_vec per_device;
    try {
        per_device = common_get_device_memory_data(model_path.c_str(), &model_params,
                                                   &context_params, devices, n_gpu_layers,
                                                   n_ctx_train, n_expert, GGML_LOG_LEVEL_ERROR);
    } catch (const std::exception& e) {
        return core::unexpected(plan_error(std::string("cannot plan the context: ") + e.what()));
    }

    memory_plan plan;
    for (const auto& d : per_device) {
        plan.kv_cache_bytes += d.context;
        plan.compute_bytes += d.compute;
    }
    // The last entry is the host; the others are accelerators, which also
    // hold the weights and report their own free memory.
    for (size_t i = 0; i + 1 < per_device.size(); ++i) {
        const auto& d = per_device[i];
        const uint64_t need = d.model + d.context + d.compute;
        if (d.free >= 0 && need > static_cast<uint64_t>(d.free)) {
            return core::unexpected(plan_error(
                "device " + std::to_string(i) + " needs " + in_mib(need) + " but has " +
                in_mib(static_cast<uint64_t>(d.free)) + " free; lower --ctx-size or --parallel"));
        }
    }
    // Host weights are mapped from the file and can be paged out; the KV
    // cache and compute buffers cannot.
    const auto& host = per_device.back();
    plan.available_bytes = available;
    const uint64_t need = host.context + host.compute;
    if (plan.available_bytes > 0 && need > plan.available_bytes) {
        return core::unexpected(
            plan_error("the KV cache needs " + in_mib(host.context) + " and the compute buffers " +
                       in_mib(host.compute) + ", but only " + in_mib(plan.available_bytes) +
                       " of memory is available; lower --ctx-size or --parallel"));
    }
    return plan;
}

}  // namespace osprey::engine
