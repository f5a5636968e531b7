#include "engine/model.hpp"

#include <gtest/gtest.h>

namespace osprey::engine {
namespace {

model_options stories(int32_t ctx_size, int32_t parallel) {
    initialize_backend();
    model_options o;
    o.model_path = OSPREY_STORIES_MODEL;
    o.ctx_size = ctx_size;
    o.parallel = parallel;
    o.threads = 1;
    return o;
}

// stories260K: 5 layers, 4 KV heads of 8 dimensions, K and V in f16, so
// 5 * 2 * 32 * 2 = 640 bytes per token of each sequence's cache.
TEST(ModelMemory, ReportsTheKvCacheForContextAndParallel) {
    auto m = model::load(stories(2048, 4), nullptr);
    ASSERT_TRUE(m) << m.error().internal_detail;
    const auto& info = (*m)->info();
    EXPECT_EQ(info.kv_cache_bytes, uint64_t{640} * 2048 * 4);
    EXPECT_GT(info.compute_bytes, 0u);
    EXPECT_GT(info.available_bytes, 0u);
    EXPECT_EQ(info.parallel, 4);
}

TEST(ModelMemory, RefusesACacheThatCannotFit) {
    // 4.1 G tokens: 2.6 TB of cache, and 200 GB of llama.cpp's bookkeeping,
    // refused before planning allocates any of it, on any machine.
    auto m = model::load(stories(16'000'000, 256), nullptr);
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().internal_detail.find("lower --ctx-size or --parallel"), std::string::npos)
        << m.error().internal_detail;
}

TEST(ModelMemory, RefusesMoreTokensThanLlamaCppCanAddress) {
    auto m = model::load(stories(17'000'000, 256), nullptr);
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().internal_detail.find("4294967295"), std::string::npos);
}

}  // namespace
}  // namespace osprey::engine
