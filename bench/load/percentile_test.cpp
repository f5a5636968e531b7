#include "bench/load/percentile.hpp"

#include <gtest/gtest.h>

namespace osprey::bench::load {
namespace {

TEST(PercentileNearestRank, IsNulloptWithoutValues) {
    EXPECT_EQ(percentile_nearest_rank({}, 50), std::nullopt);
    EXPECT_EQ(mean({}), std::nullopt);
}

TEST(PercentileNearestRank, PicksTheValueAtRankCeilingOfPTimesN) {
    // The textbook example: 15, 20, 35, 40, 50.
    const std::vector<double> v = {50, 15, 40, 20, 35};
    EXPECT_EQ(percentile_nearest_rank(v, 5), 15);
    EXPECT_EQ(percentile_nearest_rank(v, 30), 20);
    EXPECT_EQ(percentile_nearest_rank(v, 40), 20);
    EXPECT_EQ(percentile_nearest_rank(v, 50), 35);
    EXPECT_EQ(percentile_nearest_rank(v, 100), 50);
}

TEST(PercentileNearestRank, NeverInterpolates) {
    EXPECT_EQ(percentile_nearest_rank({1, 2}, 50), 1);
    EXPECT_EQ(percentile_nearest_rank({1, 2}, 51), 2);
    EXPECT_EQ(percentile_nearest_rank({7}, 99), 7);
}

TEST(PercentileNearestRank, KeepsWholeRanksWholeDespiteFloatingPoint) {
    // 7 / 100.0 * 100 is slightly above 7; the rank must still be 7, not 8.
    std::vector<double> v;
    for (int i = 1; i <= 100; ++i) {
        v.push_back(i);
    }
    EXPECT_EQ(percentile_nearest_rank(v, 7), 7);
    EXPECT_EQ(percentile_nearest_rank(v, 50), 50);
    EXPECT_EQ(percentile_nearest_rank(v, 99), 99);
}

TEST(Mean, AveragesTheValues) {
    EXPECT_EQ(mean({1, 2, 6}), 3);
}

}  // namespace
}  // namespace osprey::bench::load
