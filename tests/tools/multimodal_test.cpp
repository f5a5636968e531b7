// Proves with llama.cpp and its mtmd library that the gemma3 model and the audio projector do
// what they are for: the model loads as gemma3, pairs with the real vision projector
// mmproj-tinygemma3.gguf and with the generated audio projector, and both kinds of media encode,
// decode into the model's context, and leave it able to sample a next token.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include <gguf.h>
#include <gtest/gtest.h>
#include <llama.h>
#include <mtmd-helper.h>
#include <mtmd.h>

#include "scratch_dir.hpp"
#include "test_model.hpp"

#ifndef OSPREY_SHARED_MODELS
#error "OSPREY_SHARED_MODELS must name the folder with the shared test models"
#endif

namespace {

namespace fs = std::filesystem;

using osprey::tools::test_model_gemma3_shape;

constexpr int vocab_size = 32000;
constexpr int n_threads = 2;

const fs::path vision_projector = fs::path(OSPREY_SHARED_MODELS) / "mmproj-tinygemma3.gguf";

// mmproj-tinygemma3.gguf resizes every image to 32x32 and cuts 2x2 patches, one token each.
constexpr size_t image_tokens = (32 / 2) * (32 / 2);

// Whisper preprocessing pads audio to one 30 s window of 3000 mel frames; the stride-2
// convolution halves them and the projector stacks stack_factor frames into each token.
constexpr size_t audio_tokens_per_window =
    3000 / 2 / osprey::tools::test_audio_projector_shape.stack_factor;

struct model_deleter {
    void operator()(llama_model* model) const { llama_model_free(model); }
};

struct context_deleter {
    void operator()(llama_context* ctx) const { llama_free(ctx); }
};

struct sampler_deleter {
    void operator()(llama_sampler* sampler) const { llama_sampler_free(sampler); }
};

using model_ptr = std::unique_ptr<llama_model, model_deleter>;
using context_ptr = std::unique_ptr<llama_context, context_deleter>;
using sampler_ptr = std::unique_ptr<llama_sampler, sampler_deleter>;

// llama.cpp and mtmd narrate every load at info level; only their errors help when a test fails.
void log_errors_only(ggml_log_level level, const char* text, void*) {
    if (level == GGML_LOG_LEVEL_ERROR) {
        std::fputs(text, stderr);
    }
}

void discard_log(ggml_log_level, const char*, void*) {}

// A smooth colour gradient: something for the vision encoder to look at.
mtmd::bitmap make_image(uint32_t side) {
    std::vector<unsigned char> rgb;
    for (uint32_t y = 0; y < side; ++y) {
        for (uint32_t x = 0; x < side; ++x) {
            rgb.push_back(static_cast<unsigned char>(x * 255 / side));
            rgb.push_back(static_cast<unsigned char>(y * 255 / side));
            rgb.push_back(static_cast<unsigned char>((x + y) * 127 / side));
        }
    }
    return mtmd::bitmap(side, side, rgb.data());
}

// A 440 Hz tone at half scale.
mtmd::bitmap make_sine(int sample_rate, double seconds) {
    std::vector<float> pcm(static_cast<size_t>(sample_rate * seconds));
    for (size_t i = 0; i < pcm.size(); ++i) {
        const double t = static_cast<double>(i) / sample_rate;
        pcm[i] = static_cast<float>(0.5 * std::sin(2.0 * std::numbers::pi * 440.0 * t));
    }
    return mtmd::bitmap(mtmd_bitmap_init_from_audio(pcm.size(), pcm.data()));
}

size_t count_tokens_of_type(const mtmd_input_chunks* chunks, mtmd_input_chunk_type type) {
    size_t n = 0;
    for (size_t i = 0; i < mtmd_input_chunks_size(chunks); ++i) {
        const mtmd_input_chunk* chunk = mtmd_input_chunks_get(chunks, i);
        if (mtmd_input_chunk_get_type(chunk) == type) {
            n += mtmd_input_chunk_get_n_tokens(chunk);
        }
    }
    return n;
}

bool all_finite(const float* values, size_t n) {
    return std::all_of(values, values + n, [](float value) { return std::isfinite(value); });
}

class MultimodalTest : public testing::Test {
protected:
    // One model and one projector for the whole suite: writing and loading them once keeps it
    // quick, and no test changes them.
    static void SetUpTestSuite() {
        llama_log_set(log_errors_only, nullptr);
        mtmd_helper_log_set(log_errors_only, nullptr);
        llama_backend_init();

        scratch_ = new osprey::testing::scratch_dir();
        model_path_ = scratch_->path() / "gemma3.gguf";
        audio_projector_path_ = scratch_->path() / "audio-mmproj.gguf";

        osprey::tools::test_model_options options;
        options.vocab_path = osprey::tools::default_vocab_path();
        options.out_path = model_path_.string();
        options.arch = osprey::tools::test_model_arch::gemma3;
        options.audio_projector_path = audio_projector_path_.string();
        const auto written = osprey::tools::write_test_model(options);
        ASSERT_TRUE(written.has_value()) << written.error();

        llama_model_params params = llama_model_default_params();
        params.n_gpu_layers = 0;
        model_ = llama_model_load_from_file(model_path_.c_str(), params);
    }

    static void TearDownTestSuite() {
        llama_model_free(model_);
        model_ = nullptr;
        delete scratch_;
        scratch_ = nullptr;
        llama_backend_free();
    }

    void SetUp() override { ASSERT_NE(model_, nullptr) << "the gemma3 model did not load"; }

    static mtmd::context_ptr init_mtmd(const fs::path& projector) {
        mtmd_context_params params = mtmd_context_params_default();
        params.use_gpu = false;
        params.n_threads = n_threads;
        params.print_timings = false;
        return mtmd::context_ptr(mtmd_init_from_file(projector.c_str(), model_, params));
    }

    // Room for an image (256 tokens) or a window of audio (75) and the text around it.
    static context_ptr new_context() {
        llama_context_params params = llama_context_default_params();
        params.n_ctx = 1024;
        params.n_batch = 512;
        params.n_threads = n_threads;
        params.n_threads_batch = n_threads;
        return context_ptr(llama_init_from_model(model_, params));
    }

    // A user turn in the model's own template, with the media marker where the media goes.
    static mtmd::input_chunks_ptr tokenize(mtmd_context* mtmd, const mtmd::bitmap& media) {
        const std::string prompt = std::string("<start_of_turn>user\n") + mtmd_default_marker() +
                                   "What is this?<end_of_turn>\n<start_of_turn>model\n";
        const mtmd_input_text text{prompt.c_str(), prompt.size(), true, true};
        const mtmd_bitmap* bitmaps[] = {media.ptr.get()};

        mtmd::input_chunks_ptr chunks(mtmd_input_chunks_init());
        const int32_t status = mtmd_tokenize(mtmd, chunks.get(), &text, bitmaps, 1);
        EXPECT_EQ(status, 0);
        return chunks;
    }

    static void expect_evaluates_and_samples(mtmd_context* mtmd, const mtmd_input_chunks* chunks);

    static osprey::testing::scratch_dir* scratch_;
    static fs::path model_path_;
    static fs::path audio_projector_path_;
    static llama_model* model_;
};

osprey::testing::scratch_dir* MultimodalTest::scratch_ = nullptr;
fs::path MultimodalTest::model_path_;
fs::path MultimodalTest::audio_projector_path_;
llama_model* MultimodalTest::model_ = nullptr;

// Runs the whole prompt, media included, through the model as a server would, then samples the
// reply's first token and decodes it too.
void MultimodalTest::expect_evaluates_and_samples(mtmd_context* mtmd,
                                                  const mtmd_input_chunks* chunks) {
    const context_ptr ctx = new_context();
    ASSERT_NE(ctx, nullptr);

    llama_pos n_past = 0;
    ASSERT_EQ(mtmd_helper_eval_chunks(mtmd, ctx.get(), chunks, 0, 0, 512, true, &n_past), 0);
    EXPECT_EQ(n_past, mtmd_helper_get_n_pos(chunks));

    const float* logits = llama_get_logits_ith(ctx.get(), -1);
    ASSERT_NE(logits, nullptr);
    EXPECT_TRUE(all_finite(logits, vocab_size));

    const sampler_ptr greedy(llama_sampler_init_greedy());
    llama_token next = llama_sampler_sample(greedy.get(), ctx.get(), -1);
    ASSERT_GE(next, 0);
    ASSERT_LT(next, vocab_size);
    EXPECT_EQ(llama_decode(ctx.get(), llama_batch_get_one(&next, 1)), 0);
}

TEST_F(MultimodalTest, Gemma3LoadsWithTheShapeItDeclares) {
    char arch[64] = {};
    ASSERT_GT(llama_model_meta_val_str(model_, "general.architecture", arch, sizeof(arch)), 0);
    EXPECT_STREQ(arch, "gemma3");

    const auto& shape = test_model_gemma3_shape;
    EXPECT_EQ(llama_vocab_n_tokens(llama_model_get_vocab(model_)), vocab_size);
    EXPECT_EQ(llama_model_n_embd(model_), static_cast<int>(shape.n_embd));
    EXPECT_EQ(llama_model_n_layer(model_), static_cast<int>(shape.n_layer));
    EXPECT_EQ(llama_model_n_head(model_), static_cast<int>(shape.n_head));
    EXPECT_EQ(llama_model_n_head_kv(model_), static_cast<int>(shape.n_head_kv));
    EXPECT_EQ(llama_model_n_swa(model_), static_cast<int>(shape.n_swa));
    EXPECT_EQ(llama_model_rope_type(model_), LLAMA_ROPE_TYPE_NEOX);
}

// The width mtmd compares with the text model's n_embd, read from the projector itself, so that
// a new copy of the shared projector with another width fails here rather than in mtmd.
TEST_F(MultimodalTest, Gemma3WidthMatchesTheSharedVisionProjector) {
    ggml_context* tensors = nullptr;
    gguf_context* meta = gguf_init_from_file(vision_projector.c_str(), {true, &tensors});
    ASSERT_NE(meta, nullptr) << vision_projector;

    const ggml_tensor* projection = ggml_get_tensor(tensors, "mm.input_projection.weight");
    ASSERT_NE(projection, nullptr);
    EXPECT_EQ(projection->ne[0], static_cast<int64_t>(test_model_gemma3_shape.n_embd));
    ggml_free(tensors);
    gguf_free(meta);
}

TEST_F(MultimodalTest, VisionProjectorPairsWithGemma3) {
    const mtmd::context_ptr mtmd = init_mtmd(vision_projector);
    ASSERT_NE(mtmd, nullptr);

    EXPECT_TRUE(mtmd_support_vision(mtmd.get()));
    EXPECT_FALSE(mtmd_support_audio(mtmd.get()));
}

TEST_F(MultimodalTest, ImageEncodesDecodesAndSamples) {
    const mtmd::context_ptr mtmd = init_mtmd(vision_projector);
    ASSERT_NE(mtmd, nullptr);
    const mtmd::bitmap image = make_image(64);

    const mtmd::input_chunks_ptr chunks = tokenize(mtmd.get(), image);

    EXPECT_EQ(count_tokens_of_type(chunks.get(), MTMD_INPUT_CHUNK_TYPE_IMAGE), image_tokens);
    EXPECT_GT(count_tokens_of_type(chunks.get(), MTMD_INPUT_CHUNK_TYPE_TEXT), 0u);
    expect_evaluates_and_samples(mtmd.get(), chunks.get());
}

TEST_F(MultimodalTest, AudioProjectorPairsWithGemma3ForAudioOnly) {
    const mtmd::context_ptr mtmd = init_mtmd(audio_projector_path_);
    ASSERT_NE(mtmd, nullptr);

    EXPECT_TRUE(mtmd_support_audio(mtmd.get()));
    EXPECT_FALSE(mtmd_support_vision(mtmd.get()));
    EXPECT_EQ(mtmd_get_audio_sample_rate(mtmd.get()), 16000);
}

// Encodes on its own first, to check the embeddings mtmd hands the text model: one row of the
// model's width per audio token, all finite.
TEST_F(MultimodalTest, AudioEncodesToFiniteEmbeddings) {
    const mtmd::context_ptr mtmd = init_mtmd(audio_projector_path_);
    ASSERT_NE(mtmd, nullptr);
    const mtmd::bitmap sine = make_sine(mtmd_get_audio_sample_rate(mtmd.get()), 1.5);
    const mtmd::input_chunks_ptr chunks = tokenize(mtmd.get(), sine);
    ASSERT_EQ(count_tokens_of_type(chunks.get(), MTMD_INPUT_CHUNK_TYPE_AUDIO),
              audio_tokens_per_window);

    for (size_t i = 0; i < mtmd_input_chunks_size(chunks.get()); ++i) {
        const mtmd_input_chunk* chunk = mtmd_input_chunks_get(chunks.get(), i);
        if (mtmd_input_chunk_get_type(chunk) != MTMD_INPUT_CHUNK_TYPE_AUDIO) {
            continue;
        }
        ASSERT_EQ(mtmd_encode_chunk(mtmd.get(), chunk), 0);
        const float* embd = mtmd_get_output_embd(mtmd.get());
        ASSERT_NE(embd, nullptr);
        EXPECT_TRUE(all_finite(embd, audio_tokens_per_window * test_model_gemma3_shape.n_embd));
    }
}

TEST_F(MultimodalTest, AudioEncodesDecodesAndSamples) {
    const mtmd::context_ptr mtmd = init_mtmd(audio_projector_path_);
    ASSERT_NE(mtmd, nullptr);
    const mtmd::bitmap sine = make_sine(mtmd_get_audio_sample_rate(mtmd.get()), 1.5);

    const mtmd::input_chunks_ptr chunks = tokenize(mtmd.get(), sine);

    EXPECT_EQ(count_tokens_of_type(chunks.get(), MTMD_INPUT_CHUNK_TYPE_AUDIO),
              audio_tokens_per_window);
    expect_evaluates_and_samples(mtmd.get(), chunks.get());
}

// The width check is what the pairing rests on: a projector written for the llama model's 64-wide
// embeddings must not pass for one that fits gemma3.
TEST_F(MultimodalTest, AudioProjectorOfAnotherWidthIsRefused) {
    osprey::tools::test_model_options options;
    options.vocab_path = osprey::tools::default_vocab_path();
    options.out_path = (scratch_->path() / "llama.gguf").string();
    options.audio_projector_path = (scratch_->path() / "llama-audio.gguf").string();
    ASSERT_TRUE(osprey::tools::write_test_model(options).has_value());

    // mtmd reports the mismatch as an error; here it is the expected outcome, not a failure.
    mtmd_helper_log_set(discard_log, nullptr);
    const mtmd::context_ptr mtmd = init_mtmd(options.audio_projector_path);
    mtmd_helper_log_set(log_errors_only, nullptr);

    EXPECT_EQ(mtmd, nullptr);
}

}  // namespace
