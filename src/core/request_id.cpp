#include "core/request_id.hpp"

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <random>

namespace osprey::core {

namespace {

std::string random_hex(int digits) {
    static std::mutex mutex;
    static std::mt19937_64 generator{std::random_device{}()};
    std::string out;
    std::lock_guard lock(mutex);
    while (static_cast<int>(out.size()) < digits) {
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(generator()));
        out += buf;
    }
    out.resize(digits);
    return out;
}

}  // namespace

std::string make_request_id() {
    return "req_" + random_hex(24);
}

std::string make_id(const std::string& prefix) {
    return prefix + random_hex(24);
}

}  // namespace osprey::core
