// Checks how the generator draws and writes tensors: the near-normal draw the bench model's
// weights come from, and the writer that converts and writes them a slice at a time.

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <ggml.h>
#include <gguf.h>
#include <gtest/gtest.h>

#include "gguf_weights.hpp"
#include "scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;

using osprey::tools::distribution;
using osprey::tools::gguf_ptr;
using osprey::tools::random_stream;
using osprey::tools::tensor_spec;

struct moments {
    double mean = 0.0;
    double std = 0.0;
};

moments measure(const std::vector<float>& values) {
    double sum = 0.0;
    double sum_sq = 0.0;
    for (const float value : values) {
        sum += value;
        sum_sq += static_cast<double>(value) * value;
    }
    const double n = static_cast<double>(values.size());
    const double mean = sum / n;
    return {mean, std::sqrt(sum_sq / n - mean * mean)};
}

std::vector<float> draw_normals(uint64_t seed, size_t n) {
    random_stream random(seed);
    std::vector<float> values(n);
    for (float& value : values) {
        value = random.next_normal();
    }
    return values;
}

// More rows than fit in one of the writer's slices (2^20 values), so the test crosses a slice
// boundary; 32 wide, as Q4_0's blocks are.
tensor_spec tall_q4_matrix() {
    return {"tall.weight", 2, {32, 40000, 1}, GGML_TYPE_Q4_0, 0.0f, 0.02f, distribution::normal};
}

// 5 floats are 20 bytes, so the next tensor starts only after padding.
tensor_spec odd_norm() {
    return {"odd_norm.weight", 1, {5, 1, 1}, GGML_TYPE_F32, 1.0f, 0.0f};
}

// The tensor converted whole, from the same stream, as a writer without slices would.
std::vector<char> quantise_whole(const tensor_spec& spec, uint64_t seed) {
    random_stream random(seed);
    std::vector<float> values(static_cast<size_t>(spec.ne[0] * spec.ne[1]));
    for (float& value : values) {
        value = spec.centre + spec.spread * random.next_normal();
    }
    std::vector<char> bytes(ggml_row_size(spec.type, spec.ne[0]) * spec.ne[1]);
    ggml_quantize_chunk(spec.type, values.data(), bytes.data(), 0, spec.ne[1], spec.ne[0], nullptr);
    return bytes;
}

class GgufWeightsTest : public testing::Test {
protected:
    // Writes specs with seed, then reads the file back, data and all.
    gguf_ptr write_and_read(const std::vector<tensor_spec>& specs, uint64_t seed) {
        const gguf_ptr meta(gguf_init_empty());
        EXPECT_TRUE(osprey::tools::add_tensor_infos(meta.get(), specs).has_value());
        EXPECT_TRUE(osprey::tools::write_random_gguf(path_.string(), meta.get(), specs, seed));
        return gguf_ptr(gguf_init_from_file(path_.c_str(), {false, &tensors_}));
    }

    void TearDown() override { ggml_free(tensors_); }

    const ggml_tensor* tensor(const char* name) const { return ggml_get_tensor(tensors_, name); }

    osprey::testing::scratch_dir scratch_;
    const fs::path path_ = scratch_.path() / "weights.gguf";
    ggml_context* tensors_ = nullptr;
};

TEST(RandomStreamTest, NormalDrawHasMeanZeroAndUnitVariance) {
    const moments got = measure(draw_normals(1, 200000));

    EXPECT_NEAR(got.mean, 0.0, 0.01);
    EXPECT_NEAR(got.std, 1.0, 0.01);
}

TEST(RandomStreamTest, NormalDrawDependsOnlyOnTheSeed) {
    EXPECT_EQ(draw_normals(3, 1000), draw_normals(3, 1000));
    EXPECT_NE(draw_normals(3, 1000), draw_normals(4, 1000));
}

TEST(CountValuesTest, SumsEveryTensor) {
    EXPECT_EQ(osprey::tools::count_values({tall_q4_matrix(), odd_norm()}), 32 * 40000 + 5);
}

// Slicing is how the writer stays small; it must not show in the file.
TEST_F(GgufWeightsTest, SlicedWriteMatchesAWholeConversion) {
    const gguf_ptr file = write_and_read({tall_q4_matrix()}, 9);
    ASSERT_NE(file, nullptr);
    const ggml_tensor* tall = tensor("tall.weight");
    ASSERT_NE(tall, nullptr);
    ASSERT_EQ(tall->type, GGML_TYPE_Q4_0);

    const std::vector<char> want = quantise_whole(tall_q4_matrix(), 9);
    ASSERT_EQ(ggml_nbytes(tall), want.size());
    EXPECT_EQ(std::memcmp(tall->data, want.data(), want.size()), 0);
}

TEST_F(GgufWeightsTest, QuantisedWeightsKeepTheirSpread) {
    const gguf_ptr file = write_and_read({tall_q4_matrix()}, 9);
    ASSERT_NE(file, nullptr);
    const ggml_tensor* tall = tensor("tall.weight");
    ASSERT_NE(tall, nullptr);

    std::vector<float> values(static_cast<size_t>(ggml_nelements(tall)));
    ggml_get_type_traits(GGML_TYPE_Q4_0)->to_float(tall->data, values.data(), ggml_nelements(tall));
    const moments got = measure(values);

    EXPECT_NEAR(got.mean, 0.0, 0.001);
    EXPECT_NEAR(got.std, 0.02, 0.002);
}

// gguf finds each tensor at its padded offset; a missing pad would shift every later tensor.
TEST_F(GgufWeightsTest, PadsBetweenTensorsAsGgufExpects) {
    const gguf_ptr file = write_and_read({odd_norm(), tall_q4_matrix()}, 9);
    ASSERT_NE(file, nullptr);
    const ggml_tensor* norm = tensor("odd_norm.weight");
    const ggml_tensor* tall = tensor("tall.weight");
    ASSERT_NE(norm, nullptr);
    ASSERT_NE(tall, nullptr);

    const auto* scale = static_cast<const float*>(norm->data);
    EXPECT_EQ(std::vector<float>(scale, scale + 5), std::vector<float>(5, 1.0f));
    EXPECT_EQ(gguf_get_tensor_offset(file.get(), 1), 32u);
    EXPECT_EQ(fs::file_size(path_),
              gguf_get_data_offset(file.get()) + 32 + GGML_PAD(ggml_nbytes(tall), 32));
}

TEST_F(GgufWeightsTest, UnwritablePathFails) {
    const std::vector<tensor_spec> specs = {odd_norm()};
    const gguf_ptr meta(gguf_init_empty());
    ASSERT_TRUE(osprey::tools::add_tensor_infos(meta.get(), specs).has_value());

    const fs::path path = scratch_.path() / "no-such-dir" / "weights.gguf";

    EXPECT_FALSE(osprey::tools::write_random_gguf(path.string(), meta.get(), specs, 9));
}

}  // namespace
