#include "bench/load/percentile.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace osprey::bench::load {

std::optional<double> percentile_nearest_rank(std::vector<double> values, double p) {
    if (values.empty()) {
        return std::nullopt;
    }

    // p * n before the division keeps whole ranks whole: 7 / 100.0 * 100 is 7.000000000000001
    // in binary floating point, and its ceiling would be one rank too high.
    const auto n = static_cast<double>(values.size());
    const auto rank = std::clamp(std::ceil(p * n / 100.0), 1.0, n);
    const auto index = static_cast<std::size_t>(rank) - 1;

    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                     values.end());
    return values[index];
}

std::optional<double> mean(const std::vector<double>& values) {
    if (values.empty()) {
        return std::nullopt;
    }
    return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

}  // namespace osprey::bench::load
