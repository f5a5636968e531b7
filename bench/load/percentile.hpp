#pragma once

#include <optional>
#include <vector>

namespace osprey::bench::load {

// The p-th percentile (0 < p <= 100) of `values` by the nearest-rank method: the value at rank
// ceil(p/100 * n) of the sorted values, counting from 1, so always one of the values and never
// an interpolation. nullopt when there are no values.
std::optional<double> percentile_nearest_rank(std::vector<double> values, double p);

// The arithmetic mean; nullopt when there are no values.
std::optional<double> mean(const std::vector<double>& values);

}  // namespace osprey::bench::load
