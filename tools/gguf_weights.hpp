#pragma once

// Random tensors for the generator's GGUF files: what each tensor is, how its values are drawn,
// and the writer that draws them as it writes the file. Shared by the text models and the audio
// projector, so that every file draws its weights the same, reproducible way.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ggml.h>
#include <gguf.h>
#include <tl/expected.hpp>

namespace osprey::tools {

struct gguf_deleter {
    void operator()(gguf_context* ctx) const { gguf_free(ctx); }
};

struct ggml_deleter {
    void operator()(ggml_context* ctx) const { ggml_free(ctx); }
};

using gguf_ptr = std::unique_ptr<gguf_context, gguf_deleter>;
using ggml_ptr = std::unique_ptr<ggml_context, ggml_deleter>;

// splitmix64. The standard library's distributions are not specified bit for bit, so they could
// give another file for the same seed under another compiler; this is exact everywhere.
class random_stream {
public:
    explicit random_stream(uint64_t seed) : state_(seed) {}

    // A value spread evenly over [-1, 1). 24 bits fit a float's mantissa, so no rounding.
    float next_signed() {
        const auto bits = static_cast<float>(next() >> 40);
        return bits / static_cast<float>(1 << 23) - 1.0f;
    }

    // A value spread nearly normally, with mean 0 and variance 1: the sum of four uniform draws
    // (Irwin-Hall), scaled. Box-Muller would need log and cos, whose last bit differs between
    // maths libraries; this needs neither. Its tails stop at 2*sqrt(3), about 3.5 sigma.
    float next_normal() {
        float sum = 0.0f;
        // A loop, not a + b + c + d: the order of calls in one expression is unspecified, and
        // float addition is not associative.
        for (int i = 0; i < 4; ++i) {
            sum += next_signed();
        }
        return sum * normal_scale;
    }

private:
    // sqrt(3 / 4): each uniform draw has variance 1/3, so the sum of four has 4/3.
    static constexpr float normal_scale = 0.8660254f;

    uint64_t next() {
        state_ += 0x9e3779b97f4a7c15ULL;
        uint64_t z = state_;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    uint64_t state_;
};

enum class distribution { uniform, normal };

// One tensor to write: its name, its shape in ggml's order (ne[0] is the width of a row, the
// width of the vector a matrix multiplies), its storage type, and how its values are drawn:
// uniform, evenly over [centre - spread, centre + spread); normal, with mean centre and standard
// deviation spread.
struct tensor_spec {
    std::string name;
    int n_dims = 1;
    std::array<int64_t, 3> ne = {1, 1, 1};
    ggml_type type = GGML_TYPE_F32;
    float centre = 0.0f;
    float spread = 0.0f;
    distribution draw = distribution::uniform;
};

// A weight matrix, stored as Q8_0, so n_per_row must be a multiple of 32. Uniform weights with
// variance 1/n_per_row keep activations near unit size through every layer, so logits stay finite.
tensor_spec matrix_spec(std::string name, int64_t n_per_row, int64_t n_rows);

// A norm's scale: values near 1 keep it close to a plain normalisation.
tensor_spec norm_spec(std::string name, int64_t n);

// A small additive term (a bias, a norm's shift, a position embedding): values near 0, so it
// nudges activations without swamping them. n_rows > 1 makes it a matrix of such terms.
tensor_spec offset_spec(std::string name, int64_t n, int64_t n_rows = 1);

// A 1-D convolution kernel, stored as F16 as ggml's im2col wants it, scaled like a matrix whose
// rows are kernel_size * n_in wide.
tensor_spec conv1d_spec(std::string name, int64_t kernel_size, int64_t n_in, int64_t n_out);

// How many values the tensors hold: for a model, its parameter count.
int64_t count_values(const std::vector<tensor_spec>& specs);

// Adds each tensor's name, shape and type to `file`, in the order given, but no data:
// write_random_gguf draws the values while it writes. Fails only when ggml cannot allocate the
// tensors' headers.
tl::expected<void, std::string> add_tensor_infos(gguf_context* file,
                                                 const std::vector<tensor_spec>& specs);

// Writes `file`'s metadata to `path`, then the data of the tensors add_tensor_infos gave it: every
// value drawn from one stream seeded with `seed`, tensor by tensor in the order given, and
// converted to the tensor's type a slice of rows at a time. A slice is a few megabytes, so that
// a model of hundreds of megabytes is written without holding its weights in memory; the bytes do
// not depend on the slice size. Returns false when `path` cannot be opened or written; the caller
// removes what was written.
bool write_random_gguf(const std::string& path, const gguf_context* file,
                       const std::vector<tensor_spec>& specs, uint64_t seed);

}  // namespace osprey::tools
