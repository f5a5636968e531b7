#include "test_model.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>
#include <system_error>
#include <vector>

#include <ggml.h>
#include <gguf.h>

#ifndef OSPREY_DEFAULT_VOCAB
#error "OSPREY_DEFAULT_VOCAB must name the default vocab GGUF"
#endif

namespace osprey::tools {
namespace {

struct gguf_deleter {
    void operator()(gguf_context* ctx) const { gguf_free(ctx); }
};

struct ggml_deleter {
    void operator()(ggml_context* ctx) const { ggml_free(ctx); }
};

using gguf_ptr = std::unique_ptr<gguf_context, gguf_deleter>;
using ggml_ptr = std::unique_ptr<ggml_context, ggml_deleter>;

constexpr std::string_view tokenizer_prefix = "tokenizer.";
constexpr const char* tokens_key = "tokenizer.ggml.tokens";

// Q8_0 rather than F16 nearly halves the file, which is almost all vocabulary-sized matrices.
constexpr ggml_type matrix_type = GGML_TYPE_Q8_0;

// ggml explains a bad file in several lines of its own on stderr, but the tool promises a single
// line; ggml's are discarded while the generator runs and the caller's logger is put back after.
class ggml_log_silencer {
public:
    ggml_log_silencer() {
        ggml_log_get(&old_callback_, &old_user_data_);
        ggml_log_set(discard, nullptr);
    }

    ~ggml_log_silencer() { ggml_log_set(old_callback_, old_user_data_); }

    ggml_log_silencer(const ggml_log_silencer&) = delete;
    ggml_log_silencer& operator=(const ggml_log_silencer&) = delete;

private:
    static void discard(ggml_log_level, const char*, void*) {}

    ggml_log_callback old_callback_ = nullptr;
    void* old_user_data_ = nullptr;
};

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

private:
    uint64_t next() {
        state_ += 0x9e3779b97f4a7c15ULL;
        uint64_t z = state_;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    uint64_t state_;
};

enum class tensor_role { matrix, norm };

struct tensor_spec {
    std::string name;
    int64_t n_per_row;  // for a matrix, the width of the vector it multiplies
    int64_t n_rows;
    tensor_role role;
};

ggml_type type_of(tensor_role role) {
    return role == tensor_role::matrix ? matrix_type : GGML_TYPE_F32;
}

void add_layer_tensors(std::vector<tensor_spec>& specs, const test_model_shape& shape,
                       uint32_t layer) {
    const std::string blk = "blk." + std::to_string(layer) + ".";
    const int64_t n_embd = shape.n_embd;
    const int64_t n_embd_kv = n_embd / shape.n_head * shape.n_head_kv;
    const int64_t n_ff = shape.n_ff;

    specs.push_back({blk + "attn_norm.weight", n_embd, 1, tensor_role::norm});
    specs.push_back({blk + "attn_q.weight", n_embd, n_embd, tensor_role::matrix});
    specs.push_back({blk + "attn_k.weight", n_embd, n_embd_kv, tensor_role::matrix});
    specs.push_back({blk + "attn_v.weight", n_embd, n_embd_kv, tensor_role::matrix});
    specs.push_back({blk + "attn_output.weight", n_embd, n_embd, tensor_role::matrix});

    specs.push_back({blk + "ffn_norm.weight", n_embd, 1, tensor_role::norm});
    specs.push_back({blk + "ffn_gate.weight", n_embd, n_ff, tensor_role::matrix});
    specs.push_back({blk + "ffn_down.weight", n_ff, n_embd, tensor_role::matrix});
    specs.push_back({blk + "ffn_up.weight", n_embd, n_ff, tensor_role::matrix});
}

// Every tensor llama.cpp's llama loader requires, in the order it asks for them; the output
// matrix is written out rather than tied to the embeddings, as in most llama checkpoints.
std::vector<tensor_spec> list_tensors(const test_model_shape& shape, int64_t n_vocab) {
    std::vector<tensor_spec> specs = {
        {"token_embd.weight", shape.n_embd, n_vocab, tensor_role::matrix},
        {"output_norm.weight", shape.n_embd, 1, tensor_role::norm},
        {"output.weight", shape.n_embd, n_vocab, tensor_role::matrix},
    };
    for (uint32_t layer = 0; layer < shape.n_layer; ++layer) {
        add_layer_tensors(specs, shape, layer);
    }
    return specs;
}

size_t arena_size(const std::vector<tensor_spec>& specs) {
    size_t size = 0;
    for (const auto& spec : specs) {
        const size_t n_bytes = ggml_row_size(type_of(spec.role), spec.n_per_row) * spec.n_rows;
        size += ggml_tensor_overhead() + n_bytes + GGML_MEM_ALIGN;
    }
    return size;
}

// Uniform weights with variance 1/width keep activations near unit size through every layer, so
// logits stay finite; norm weights near 1 keep each RMS norm close to a plain normalisation.
std::vector<float> make_values(const tensor_spec& spec, random_stream& random) {
    const bool is_norm = spec.role == tensor_role::norm;
    const float centre = is_norm ? 1.0f : 0.0f;
    const float spread = is_norm ? 0.1f : std::sqrt(3.0f / static_cast<float>(spec.n_per_row));

    std::vector<float> values(static_cast<size_t>(spec.n_per_row * spec.n_rows));
    for (float& value : values) {
        value = centre + spread * random.next_signed();
    }
    return values;
}

ggml_tensor* new_tensor(ggml_context* arena, const tensor_spec& spec) {
    const ggml_type type = type_of(spec.role);
    if (spec.role == tensor_role::norm) {
        return ggml_new_tensor_1d(arena, type, spec.n_per_row);
    }
    return ggml_new_tensor_2d(arena, type, spec.n_per_row, spec.n_rows);
}

void store_values(ggml_tensor* tensor, const std::vector<float>& values) {
    if (tensor->type == GGML_TYPE_F32) {
        std::memcpy(tensor->data, values.data(), ggml_nbytes(tensor));
        return;
    }
    ggml_quantize_chunk(tensor->type, values.data(), tensor->data, 0, tensor->ne[1], tensor->ne[0],
                        nullptr);
}

// gguf keeps a pointer to each tensor's data rather than a copy, so the arena that holds the
// data must outlive the write; the caller owns it.
tl::expected<ggml_ptr, std::string> add_tensors(gguf_context* model,
                                                const std::vector<tensor_spec>& specs,
                                                uint64_t seed) {
    ggml_ptr arena(ggml_init({arena_size(specs), nullptr, false}));
    if (!arena) {
        return tl::unexpected(std::string("out of memory for the model's tensors"));
    }

    random_stream random(seed);
    for (const auto& spec : specs) {
        ggml_tensor* tensor = new_tensor(arena.get(), spec);
        ggml_set_name(tensor, spec.name.c_str());
        store_values(tensor, make_values(spec, random));
        gguf_add_tensor(model, tensor);
    }
    return arena;
}

tl::expected<gguf_ptr, std::string> open_vocab(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return tl::unexpected("vocab file not found: " + path);
    }

    gguf_ptr vocab(gguf_init_from_file(path.c_str(), {true, nullptr}));
    if (!vocab) {
        return tl::unexpected("vocab file is not a readable GGUF: " + path);
    }

    const int64_t id = gguf_find_key(vocab.get(), tokens_key);
    const bool has_tokens = id >= 0 && gguf_get_kv_type(vocab.get(), id) == GGUF_TYPE_ARRAY &&
                            gguf_get_arr_type(vocab.get(), id) == GGUF_TYPE_STRING &&
                            gguf_get_arr_n(vocab.get(), id) > 0;
    if (!has_tokens) {
        return tl::unexpected("vocab file has no " + std::string(tokens_key) + " list: " + path);
    }
    return vocab;
}

uint32_t count_tokens(const gguf_context* vocab) {
    return static_cast<uint32_t>(gguf_get_arr_n(vocab, gguf_find_key(vocab, tokens_key)));
}

void set_hparams(gguf_context* model, const test_model_shape& shape, uint32_t n_vocab) {
    gguf_set_val_str(model, "general.architecture", "llama");
    gguf_set_val_str(model, "general.name", test_model_name);

    gguf_set_val_u32(model, "llama.vocab_size", n_vocab);
    gguf_set_val_u32(model, "llama.context_length", shape.n_ctx_train);
    gguf_set_val_u32(model, "llama.embedding_length", shape.n_embd);
    gguf_set_val_u32(model, "llama.block_count", shape.n_layer);
    gguf_set_val_u32(model, "llama.feed_forward_length", shape.n_ff);

    gguf_set_val_u32(model, "llama.attention.head_count", shape.n_head);
    gguf_set_val_u32(model, "llama.attention.head_count_kv", shape.n_head_kv);
    gguf_set_val_f32(model, "llama.attention.layer_norm_rms_epsilon", shape.rms_norm_eps);
    gguf_set_val_u32(model, "llama.rope.dimension_count", shape.n_embd / shape.n_head);
    gguf_set_val_f32(model, "llama.rope.freq_base", shape.rope_freq_base);
}

// gguf_set_kv copies keys with their exact types, arrays included, so the tokenizer arrives as
// llama.cpp wrote it; the vocab file's other keys (its own general.* and llama.*) are dropped
// from a staging copy first, since the model states its own.
void copy_tokenizer(gguf_context* model, const gguf_context* vocab) {
    gguf_ptr staging(gguf_init_empty());
    gguf_set_kv(staging.get(), vocab);

    for (int64_t id = 0; id < gguf_get_n_kv(vocab); ++id) {
        const char* key = gguf_get_key(vocab, id);
        if (!std::string_view(key).starts_with(tokenizer_prefix)) {
            gguf_remove_key(staging.get(), key);
        }
    }
    gguf_set_kv(model, staging.get());
}

tl::expected<void, std::string> write_file(const gguf_context* model, const std::string& path) {
    const std::string partial = path + ".partial";
    std::error_code ec;

    if (!gguf_write_to_file(model, partial.c_str(), false)) {
        std::filesystem::remove(partial, ec);
        return tl::unexpected("cannot write the model to " + path);
    }

    std::filesystem::rename(partial, path, ec);
    if (ec) {
        const std::string reason = ec.message();
        std::filesystem::remove(partial, ec);
        return tl::unexpected("cannot write the model to " + path + ": " + reason);
    }
    return {};
}

}  // namespace

const char* default_vocab_path() {
    return OSPREY_DEFAULT_VOCAB;
}

tl::expected<void, std::string> write_test_model(const test_model_options& options) {
    const ggml_log_silencer silencer;
    const test_model_shape& shape = test_model_default_shape;

    auto vocab = open_vocab(options.vocab_path);
    if (!vocab) {
        return tl::unexpected(vocab.error());
    }
    const uint32_t n_vocab = count_tokens(vocab->get());

    gguf_ptr model(gguf_init_empty());
    set_hparams(model.get(), shape, n_vocab);
    copy_tokenizer(model.get(), vocab->get());

    auto arena = add_tensors(model.get(), list_tensors(shape, n_vocab), options.seed);
    if (!arena) {
        return tl::unexpected(arena.error());
    }
    return write_file(model.get(), options.out_path);
}

}  // namespace osprey::tools
