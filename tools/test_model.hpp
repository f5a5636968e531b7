#pragma once

// The test-model generator: GGUF models with random weights and a real tokenizer, for tests that
// need a model which loads, tokenizes and decodes like a real one, but not one that makes sense.
//
// It writes one text model per run, of one of two architectures:
//  - llama (the default): no chat template, so osprey falls back to its own.
//  - gemma3: carries a gemma-style chat template, and its n_embd (128) matches the vision
//    projector that llama.cpp's multimodal tests use, ggml-org's mmproj-tinygemma3.gguf (CLIP,
//    image_size 32, patch 2), so image input runs end to end with that projector.
// and, when asked, a random audio projector (a `clip` GGUF, projector type ultravox: a small
// whisper-style encoder, then frames stacked and projected) whose output width is that text
// model's n_embd, so that llama.cpp's mtmd accepts it beside the model and encodes 16 kHz PCM
// audio. mtmd wraps ultravox audio in no marker text and looks up no special tokens, so any
// vocabulary serves.
//
// For benchmarks it also writes, when asked, a llama model of a real model's shape (about 336 M
// parameters, matrices quantised), so that decoding on it costs what a small real model's does.
//
// The command-line tool writes the same files:
//   osprey-make-test-model --out F [--arch llama|gemma3] [--tools-template] [--audio-projector-out
//   A]
//                          [--vocab V] [--seed S] [--shape tiny|bench] [--type q4_0|q8_0|f16]
// With neither --arch nor --audio-projector-out it writes exactly the llama model it always has.
// --tools-template gives it a chat template that offers tools and sets reasoning apart.
// For benchmarks (about 190 MB at Q4_0; it prints the parameter count, type and size):
//   osprey-make-test-model --shape bench --out /tmp/bench.gguf [--type q8_0]
// For image and audio tests:
//   osprey-make-test-model --arch gemma3 --out gemma3.gguf --audio-projector-out audio.gguf
// then give mtmd the shared mmproj-tinygemma3.gguf for images, audio.gguf for audio.
//
// Not for two threads at once: write_test_model swaps out ggml's process-wide logger for the
// length of the call.

#include <cstdint>
#include <string>

#include <tl/expected.hpp>

namespace osprey::tools {

enum class test_model_arch { llama, gemma3 };

// tiny: the shapes below, for tests. bench: test_model_bench_shape, llama only.
enum class test_model_scale { tiny, bench };

// How the bench model stores its matrices. Its norms are F32 whatever this says.
enum class weight_type { q4_0, q8_0, f16 };

// A text model's shape. The tiny ones are small enough that a two-core CI machine loads and
// decodes them in a blink; the vocabulary-sized matrices are nearly all of the file. Every matrix
// row holds a multiple of 32 values, because matrices are stored as Q8_0 or Q4_0, whose blocks are
// 32 wide.
struct test_model_shape {
    uint32_t n_ctx_train = 4096;
    uint32_t n_embd = 64;
    uint32_t n_layer = 2;
    uint32_t n_ff = 128;
    uint32_t n_head = 4;
    uint32_t n_head_kv = 2;
    float rms_norm_eps = 1e-5f;
    float rope_freq_base = 10000.0f;

    // Only gemma3 reads these: like the real gemma3, it alternates sliding-window layers (RoPE
    // base rope_freq_base_swa) with global ones, one global layer in every swa_pattern.
    uint32_t n_swa = 0;
    uint32_t swa_pattern = 0;
    float rope_freq_base_swa = 0.0f;
};

// The llama model's shape.
inline constexpr test_model_shape test_model_default_shape{};

// The gemma3 model's shape. n_embd is fixed by the projector it pairs with: mtmd refuses a
// projector whose output width (for gemma3, mm.input_projection.weight's first dimension: 128 in
// mmproj-tinygemma3.gguf) differs from the text model's n_embd. The output matrix is tied to the
// token embeddings, as in gemma3 checkpoints, which keeps the file near 5 MB.
inline constexpr test_model_shape test_model_gemma3_shape{
    .n_embd = 128,
    .n_layer = 2,
    .n_ff = 512,
    .n_head = 2,
    .n_head_kv = 1,
    .rms_norm_eps = 1e-6f,
    .rope_freq_base = 1000000.0f,
    .n_swa = 512,
    .swa_pattern = 2,
    .rope_freq_base_swa = 10000.0f,
};

// The bench model's shape: a small llama of a real model's proportions (grouped-query attention
// with four query heads per KV head, head width 64, feed-forward 2.75 times n_embd), so that its
// matrix multiplications, not the vocabulary or the overheads, are most of each decode step.
// About 336 M parameters with the 32000-token vocabulary, 270 M of them in its layers.
inline constexpr test_model_shape test_model_bench_shape{
    .n_ctx_train = 4096,
    .n_embd = 1024,
    .n_layer = 24,
    .n_ff = 2816,
    .n_head = 16,
    .n_head_kv = 4,
};

// The audio projector. Its output width is not here: it is always the text model's n_embd.
// llama.cpp's whisper preprocessing cuts audio into 30 s windows of 3000 mel frames (a shorter
// clip is padded to one window); the stride-2 convolution halves them and stacking
// stack_factor frames into one embedding divides the rest, so every window becomes
// 1500 / stack_factor = 75 embeddings in the text model's context. stack_factor must divide 1500,
// or mtmd's token count and its graph's output disagree and it aborts.
struct audio_projector_shape {
    uint32_t n_embd = 64;
    uint32_t n_layer = 2;
    uint32_t n_ff = 256;
    uint32_t n_head = 2;
    uint32_t n_mel_bins = 128;
    uint32_t n_pos = 1500;  // position embeddings: one per frame left after the stride-2 conv
    uint32_t stack_factor = 20;
    uint32_t n_proj_hidden = 256;  // the width between the projector's two matrices
    float layer_norm_eps = 1e-5f;
};

inline constexpr audio_projector_shape test_audio_projector_shape{};

inline constexpr const char* test_model_name = "osprey test model (random weights)";
inline constexpr const char* test_audio_projector_name =
    "osprey test audio projector (random weights)";

struct test_model_options {
    // A GGUF holding at least tokenizer.ggml.tokens; every tokenizer.* key is copied from it.
    std::string vocab_path;
    std::string out_path;
    uint64_t seed = 42;
    test_model_arch arch = test_model_arch::llama;
    // A ChatML-style template that offers tools and sets reasoning apart, in place of the
    // architecture's own (none for llama).
    bool tools_template = false;
    // Where to write the audio projector for this run's text model; empty writes none.
    std::string audio_projector_path;
    test_model_scale scale = test_model_scale::tiny;
    // Read only at bench scale: the tiny models always store their matrices as Q8_0.
    weight_type bench_type = weight_type::q4_0;
};

// What write_test_model wrote, for the tool to report: the text model's parameter count and the
// size of its file.
struct written_test_model {
    int64_t n_parameters = 0;
    uint64_t n_bytes = 0;
};

// The vocab GGUF used when none is named: llama.cpp's llama SPM vocabulary (32000 tokens), as
// installed beside the llama.cpp build, fixed when this library is compiled.
const char* default_vocab_path();

// The jinja chat template the gemma3 model carries in tokenizer.chat_template: gemma's turns,
// `<start_of_turn>user\n...<end_of_turn>\n`, the assistant's role named "model", and a system
// message folded into the first user turn. Its markers are plain text to the llama vocabulary.
const char* gemma3_chat_template();

// Writes the model described by options, and the audio projector when asked. The same options
// and vocab always give the same bytes, and the model's bytes do not depend on whether a
// projector is written. Each file is written beside its path under a temporary name and renamed
// into place only once every file is whole, so a failed run leaves no half-written file where a
// build expects a whole one. On failure, returns a one-line message naming the path at fault
// (vocab missing or not a GGUF vocabulary, output not writable) and, unless the final rename of
// one of two files is what failed, leaves both paths as they were. The bench scale is refused for
// any architecture but llama.
tl::expected<written_test_model, std::string> write_test_model(const test_model_options& options);

}  // namespace osprey::tools
