#pragma once

// The test-model generator: a llama GGUF with random weights and a real tokenizer, for tests
// that need a model which loads, tokenizes and decodes like a real one, but not one that makes
// sense. Not for two threads at once: write_test_model swaps out ggml's process-wide logger for
// the length of the call.

#include <cstdint>
#include <string>

#include <tl/expected.hpp>

namespace osprey::tools {

// The model's shape. Small enough that a two-core CI machine loads and decodes it in a blink;
// the two vocabulary-sized matrices are nearly all of the file. Every matrix row holds a
// multiple of 32 values, because matrices are stored as Q8_0, whose blocks are 32 wide.
struct test_model_shape {
    uint32_t n_ctx_train = 4096;
    uint32_t n_embd = 64;
    uint32_t n_layer = 2;
    uint32_t n_ff = 128;
    uint32_t n_head = 4;
    uint32_t n_head_kv = 2;
    float rms_norm_eps = 1e-5f;
    float rope_freq_base = 10000.0f;
};

inline constexpr test_model_shape test_model_default_shape{};

inline constexpr const char* test_model_name = "osprey test model (random weights)";

struct test_model_options {
    // A GGUF holding at least tokenizer.ggml.tokens; every tokenizer.* key is copied from it.
    std::string vocab_path;
    std::string out_path;
    uint64_t seed = 42;
};

// The vocab GGUF used when none is named: llama.cpp's llama SPM vocabulary (32000 tokens), as
// installed beside the llama.cpp build, fixed when this library is compiled.
const char* default_vocab_path();

// Writes the model described by options. The same options and vocab always give the same bytes.
// The file is written beside out_path under a temporary name and renamed into place, so a failed
// run never leaves a half-written model where a build expects a whole one. On failure, returns a
// one-line message naming the path at fault (vocab missing or not a GGUF vocabulary, output not
// writable) and leaves out_path as it was.
tl::expected<void, std::string> write_test_model(const test_model_options& options);

}  // namespace osprey::tools
