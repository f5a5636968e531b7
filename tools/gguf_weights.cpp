#include "gguf_weights.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <utility>

namespace osprey::tools {
namespace {

// Q8_0 rather than F16 nearly halves a file that is mostly vocabulary-sized matrices.
constexpr ggml_type matrix_type = GGML_TYPE_Q8_0;

// About four megabytes of floats per slice: small beside a model, large enough that each fwrite
// and each ggml_quantize_chunk call has plenty to do.
constexpr int64_t values_per_slice = int64_t{1} << 20;

struct file_closer {
    void operator()(FILE* file) const { std::fclose(file); }
};

using file_ptr = std::unique_ptr<FILE, file_closer>;

// A uniform draw over [-a, a) has variance a^2 / 3, so this spread gives variance 1/fan_in.
float unit_variance_spread(int64_t fan_in) {
    return std::sqrt(3.0f / static_cast<float>(fan_in));
}

int64_t count_values(const tensor_spec& spec) {
    return spec.ne[0] * spec.ne[1] * spec.ne[2];
}

int64_t count_rows(const tensor_spec& spec) {
    return count_values(spec) / spec.ne[0];
}

float draw_value(const tensor_spec& spec, random_stream& random) {
    if (spec.draw == distribution::normal) {
        return spec.centre + spec.spread * random.next_normal();
    }
    return spec.centre + spec.spread * random.next_signed();
}

// Rows are drawn in order and each is converted on its own (no importance matrix), so a tensor
// written slice by slice has the same bytes as one converted whole.
bool write_tensor_data(FILE* out, const tensor_spec& spec, random_stream& random) {
    const int64_t n_per_row = spec.ne[0];
    const int64_t n_rows = count_rows(spec);
    const int64_t rows_per_slice = std::max<int64_t>(1, values_per_slice / n_per_row);

    std::vector<float> values(static_cast<size_t>(std::min(n_rows, rows_per_slice) * n_per_row));
    std::vector<char> bytes(ggml_row_size(spec.type, n_per_row) * values.size() / n_per_row);
    for (int64_t row = 0; row < n_rows; row += rows_per_slice) {
        const int64_t n_slice_rows = std::min(rows_per_slice, n_rows - row);
        const auto n_values = static_cast<size_t>(n_slice_rows * n_per_row);
        for (size_t i = 0; i < n_values; ++i) {
            values[i] = draw_value(spec, random);
        }

        const size_t n_bytes = ggml_quantize_chunk(spec.type, values.data(), bytes.data(), 0,
                                                   n_slice_rows, n_per_row, nullptr);
        if (std::fwrite(bytes.data(), 1, n_bytes, out) != n_bytes) {
            return false;
        }
    }
    return true;
}

// gguf starts every tensor's data on a multiple of the file's alignment, measured from the start
// of the data section, and pads the last one too.
bool write_padding(FILE* out, size_t n_written, size_t alignment) {
    const size_t n_padding = GGML_PAD(n_written, alignment) - n_written;
    if (n_padding == 0) {
        return true;  // fwrite must not be given an empty vector's null data()
    }
    const std::vector<char> zeros(n_padding, 0);
    return std::fwrite(zeros.data(), 1, n_padding, out) == n_padding;
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

int64_t count_values(const std::vector<tensor_spec>& specs) {
    int64_t n = 0;
    for (const auto& spec : specs) {
        n += count_values(spec);
    }
    return n;
}

// gguf copies each tensor's header, so the headers' own context can go as soon as they are added.
tl::expected<void, std::string> add_tensor_infos(gguf_context* file,
                                                 const std::vector<tensor_spec>& specs) {
    const size_t size = specs.size() * ggml_tensor_overhead();
    const ggml_ptr headers(ggml_init({size, nullptr, true}));
    if (!headers) {
        return tl::unexpected(std::string("out of memory for the model's tensors"));
    }

    for (const auto& spec : specs) {
        ggml_tensor* tensor =
            ggml_new_tensor(headers.get(), spec.type, spec.n_dims, spec.ne.data());
        ggml_set_name(tensor, spec.name.c_str());
        gguf_add_tensor(file, tensor);
    }
    return {};
}

bool write_random_gguf(const std::string& path, const gguf_context* file,
                       const std::vector<tensor_spec>& specs, uint64_t seed) {
    file_ptr out(std::fopen(path.c_str(), "wb"));
    if (!out || !gguf_write_to_file_ptr(file, out.get(), true)) {
        return false;
    }

    random_stream random(seed);
    const size_t alignment = gguf_get_alignment(file);
    for (const auto& spec : specs) {
        const size_t n_bytes = ggml_row_size(spec.type, spec.ne[0]) * count_rows(spec);
        if (!write_tensor_data(out.get(), spec, random) ||
            !write_padding(out.get(), n_bytes, alignment)) {
            return false;
        }
    }
    return std::fclose(out.release()) == 0;
}

}  // namespace osprey::tools
