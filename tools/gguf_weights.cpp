#include "gguf_weights.hpp"

#include <cmath>
#include <cstring>
#include <utility>

namespace osprey::tools {
namespace {

// Q8_0 rather than F16 nearly halves a file that is mostly vocabulary-sized matrices.
constexpr ggml_type matrix_type = GGML_TYPE_Q8_0;

// A uniform draw over [-a, a) has variance a^2 / 3, so this spread gives variance 1/fan_in.
float unit_variance_spread(int64_t fan_in) {
    return std::sqrt(3.0f / static_cast<float>(fan_in));
}

int64_t count_values(const tensor_spec& spec) {
    return spec.ne[0] * spec.ne[1] * spec.ne[2];
}

size_t arena_size(const std::vector<tensor_spec>& specs) {
    size_t size = 0;
    for (const auto& spec : specs) {
        const int64_t n_rows = count_values(spec) / spec.ne[0];
        const size_t n_bytes = ggml_row_size(spec.type, spec.ne[0]) * n_rows;
        size += ggml_tensor_overhead() + n_bytes + GGML_MEM_ALIGN;
    }
    return size;
}

std::vector<float> make_values(const tensor_spec& spec, random_stream& random) {
    std::vector<float> values(static_cast<size_t>(count_values(spec)));
    for (float& value : values) {
        value = spec.centre + spec.spread * random.next_signed();
    }
    return values;
}

void store_values(ggml_tensor* tensor, const std::vector<float>& values) {
    if (tensor->type == GGML_TYPE_F32) {
        std::memcpy(tensor->data, values.data(), ggml_nbytes(tensor));
        return;
    }
    ggml_quantize_chunk(tensor->type, values.data(), tensor->data, 0, ggml_nrows(tensor),
                        tensor->ne[0], nullptr);
}

}  // namespace

tensor_spec matrix_spec(std::string name, int64_t n_per_row, int64_t n_rows) {
    return {std::move(name), 2,    {n_per_row, n_rows, 1},
            matrix_type,     0.0f, unit_variance_spread(n_per_row)};
}

tensor_spec norm_spec(std::string name, int64_t n) {
    return {std::move(name), 1, {n, 1, 1}, GGML_TYPE_F32, 1.0f, 0.1f};
}

tensor_spec offset_spec(std::string name, int64_t n, int64_t n_rows) {
    return {std::move(name), n_rows > 1 ? 2 : 1, {n, n_rows, 1}, GGML_TYPE_F32, 0.0f, 0.1f};
}

tensor_spec conv1d_spec(std::string name, int64_t kernel_size, int64_t n_in, int64_t n_out) {
    return {std::move(name), 3,    {kernel_size, n_in, n_out},
            GGML_TYPE_F16,   0.0f, unit_variance_spread(kernel_size * n_in)};
}

tl::expected<ggml_ptr, std::string> add_random_tensors(gguf_context* file,
                                                       const std::vector<tensor_spec>& specs,
                                                       uint64_t seed) {
    ggml_ptr arena(ggml_init({arena_size(specs), nullptr, false}));
    if (!arena) {
        return tl::unexpected(std::string("out of memory for the model's tensors"));
    }

    random_stream random(seed);
    for (const auto& spec : specs) {
        ggml_tensor* tensor = ggml_new_tensor(arena.get(), spec.type, spec.n_dims, spec.ne.data());
        ggml_set_name(tensor, spec.name.c_str());
        store_values(tensor, make_values(spec, random));
        gguf_add_tensor(file, tensor);
    }
    return arena;
}

}  // namespace osprey::tools
