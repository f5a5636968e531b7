// Checks the writer's library directly: what it copies from the vocab file, what it adds, and
// the messages it fails with. make_test_model_test.cpp checks the executable and the model.

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include <ggml.h>
#include <gguf.h>
#include <gtest/gtest.h>

#include "scratch_dir.hpp"
#include "test_model.hpp"

namespace {

namespace fs = std::filesystem;

using osprey::tools::test_model_arch;
using osprey::tools::test_model_options;
using osprey::tools::write_test_model;

struct gguf_deleter {
    void operator()(gguf_context* ctx) const { gguf_free(ctx); }
};

using gguf_ptr = std::unique_ptr<gguf_context, gguf_deleter>;

size_t value_size(gguf_type type) {
    switch (type) {
    case GGUF_TYPE_UINT8:
    case GGUF_TYPE_INT8:
    case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16:
    case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32:
    case GGUF_TYPE_INT32:
    case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64:
    case GGUF_TYPE_INT64:
    case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

void expect_same_array(const gguf_context* want, int64_t want_id, const gguf_context* got,
                       int64_t got_id) {
    const gguf_type type = gguf_get_arr_type(want, want_id);
    const size_t n = gguf_get_arr_n(want, want_id);
    ASSERT_EQ(gguf_get_arr_type(got, got_id), type);
    ASSERT_EQ(gguf_get_arr_n(got, got_id), n);

    if (type != GGUF_TYPE_STRING) {
        const void* want_data = gguf_get_arr_data(want, want_id);
        const void* got_data = gguf_get_arr_data(got, got_id);
        EXPECT_EQ(std::memcmp(want_data, got_data, n * value_size(type)), 0);
        return;
    }
    for (size_t i = 0; i < n; ++i) {
        ASSERT_STREQ(gguf_get_arr_str(got, got_id, i), gguf_get_arr_str(want, want_id, i));
    }
}

void expect_same_value(const gguf_context* want, int64_t want_id, const gguf_context* got,
                       int64_t got_id) {
    const gguf_type type = gguf_get_kv_type(want, want_id);
    ASSERT_EQ(gguf_get_kv_type(got, got_id), type);

    if (type == GGUF_TYPE_ARRAY) {
        expect_same_array(want, want_id, got, got_id);
    } else if (type == GGUF_TYPE_STRING) {
        EXPECT_STREQ(gguf_get_val_str(got, got_id), gguf_get_val_str(want, want_id));
    } else {
        const void* want_data = gguf_get_val_data(want, want_id);
        const void* got_data = gguf_get_val_data(got, got_id);
        EXPECT_EQ(std::memcmp(want_data, got_data, value_size(type)), 0);
    }
}

gguf_ptr open_gguf(const fs::path& path) {
    return gguf_ptr(gguf_init_from_file(path.c_str(), {true, nullptr}));
}

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string string_value(const gguf_context* meta, const char* key) {
    const int64_t id = gguf_find_key(meta, key);
    return id < 0 ? "(missing)" : gguf_get_val_str(meta, id);
}

// The width of the projector's output: the height of its last matrix.
int64_t projector_output_width(const fs::path& path) {
    ggml_context* tensors = nullptr;
    const gguf_ptr meta(gguf_init_from_file(path.c_str(), {true, &tensors}));
    if (!meta) {
        return -1;
    }
    const ggml_tensor* last = ggml_get_tensor(tensors, "mm.a.mlp.2.weight");
    const int64_t width = last ? last->ne[1] : -1;
    ggml_free(tensors);
    return width;
}

// Every value of every tensor in the file, counted from its tensor infos.
int64_t count_parameters(const fs::path& path) {
    ggml_context* tensors = nullptr;
    const gguf_ptr meta(gguf_init_from_file(path.c_str(), {true, &tensors}));
    if (!meta) {
        return -1;
    }
    int64_t n = 0;
    for (int64_t id = 0; id < gguf_get_n_tensors(meta.get()); ++id) {
        n += ggml_nelements(ggml_get_tensor(tensors, gguf_get_tensor_name(meta.get(), id)));
    }
    ggml_free(tensors);
    return n;
}

class TestModelTest : public testing::Test {
protected:
    test_model_options options_for(const std::string& name) const {
        test_model_options options;
        options.vocab_path = osprey::tools::default_vocab_path();
        options.out_path = (dir_ / name).string();
        return options;
    }

    // Writes a model with the default vocab and opens its metadata.
    gguf_ptr write_and_open(const std::string& name) const {
        const test_model_options options = options_for(name);
        const auto written = write_test_model(options);
        EXPECT_TRUE(written.has_value()) << written.error();
        return open_gguf(options.out_path);
    }

    osprey::testing::scratch_dir scratch_;
    const fs::path dir_ = scratch_.path();
};

TEST_F(TestModelTest, CopiesEveryTokenizerKey) {
    const gguf_ptr vocab = open_gguf(osprey::tools::default_vocab_path());
    const gguf_ptr model = write_and_open("model.gguf");
    ASSERT_NE(vocab, nullptr);
    ASSERT_NE(model, nullptr);

    int copied = 0;
    for (int64_t id = 0; id < gguf_get_n_kv(vocab.get()); ++id) {
        const char* key = gguf_get_key(vocab.get(), id);
        if (!std::string_view(key).starts_with("tokenizer.")) {
            continue;
        }
        SCOPED_TRACE(key);
        const int64_t model_id = gguf_find_key(model.get(), key);
        ASSERT_GE(model_id, 0);
        expect_same_value(vocab.get(), id, model.get(), model_id);
        ++copied;
    }
    EXPECT_GE(copied, 3);  // at least tokenizer.ggml.model, its tokens and their scores
}

// The vocab file's own general.* keys (its name, say) must not pass for the test model's.
TEST_F(TestModelTest, WritesOnlyItsOwnKeysBesideTheTokenizer) {
    const gguf_ptr model = write_and_open("model.gguf");
    ASSERT_NE(model, nullptr);

    for (int64_t id = 0; id < gguf_get_n_kv(model.get()); ++id) {
        const std::string_view key = gguf_get_key(model.get(), id);
        const bool own = key == "general.architecture" || key == "general.name" ||
                         key.starts_with("llama.") || key.starts_with("tokenizer.");
        EXPECT_TRUE(own) << key;
    }
    EXPECT_LT(gguf_find_key(model.get(), "tokenizer.chat_template"), 0);
}

TEST_F(TestModelTest, StoresMatricesAsQ8AndNormsAsF32) {
    const gguf_ptr model = write_and_open("model.gguf");
    ASSERT_NE(model, nullptr);

    const auto type_of = [&](const char* name) {
        const int64_t id = gguf_find_tensor(model.get(), name);
        return id < 0 ? GGML_TYPE_COUNT : gguf_get_tensor_type(model.get(), id);
    };
    EXPECT_EQ(type_of("token_embd.weight"), GGML_TYPE_Q8_0);
    EXPECT_EQ(type_of("output.weight"), GGML_TYPE_Q8_0);
    EXPECT_EQ(type_of("blk.1.ffn_down.weight"), GGML_TYPE_Q8_0);
    EXPECT_EQ(type_of("output_norm.weight"), GGML_TYPE_F32);
    EXPECT_EQ(type_of("blk.0.attn_norm.weight"), GGML_TYPE_F32);
}

// A valid GGUF that holds no tokenizer would give a model llama.cpp cannot tokenize with.
TEST_F(TestModelTest, RefusesAVocabWithoutTokens) {
    test_model_options options = options_for("model.gguf");
    options.vocab_path = (dir_ / "empty.gguf").string();
    const gguf_ptr empty(gguf_init_empty());
    ASSERT_TRUE(gguf_write_to_file(empty.get(), options.vocab_path.c_str(), false));

    const auto written = write_test_model(options);

    ASSERT_FALSE(written.has_value());
    EXPECT_NE(written.error().find("tokenizer.ggml.tokens"), std::string::npos);
    EXPECT_NE(written.error().find(options.vocab_path), std::string::npos);
    EXPECT_EQ(written.error().find('\n'), std::string::npos);
    EXPECT_FALSE(fs::exists(options.out_path));
}

TEST_F(TestModelTest, NamesTheOutputItCannotWrite) {
    test_model_options options = options_for("no-such-dir/model.gguf");

    const auto written = write_test_model(options);

    ASSERT_FALSE(written.has_value());
    EXPECT_NE(written.error().find(options.out_path), std::string::npos);
    EXPECT_EQ(written.error().find('\n'), std::string::npos);
}

// mtmd refuses a projector whose output width differs from the text model's n_embd.
TEST_F(TestModelTest, AudioProjectorWidthFollowsTheTextModel) {
    const struct {
        test_model_arch arch;
        uint32_t n_embd;
    } cases[] = {
        {test_model_arch::llama, osprey::tools::test_model_default_shape.n_embd},
        {test_model_arch::gemma3, osprey::tools::test_model_gemma3_shape.n_embd},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.n_embd);
        test_model_options options = options_for("model.gguf");
        options.arch = c.arch;
        options.audio_projector_path = (dir_ / "audio.gguf").string();
        ASSERT_TRUE(write_test_model(options).has_value());

        EXPECT_EQ(projector_output_width(options.audio_projector_path), c.n_embd);
        const gguf_ptr meta = open_gguf(options.audio_projector_path);
        ASSERT_NE(meta, nullptr);
        EXPECT_EQ(string_value(meta.get(), "general.architecture"), "clip");
        EXPECT_EQ(string_value(meta.get(), "clip.projector_type"), "ultravox");
    }
}

// Tests that share one model file may write it with or without a projector.
TEST_F(TestModelTest, ModelBytesDoNotDependOnTheAudioProjector) {
    test_model_options alone = options_for("alone.gguf");
    alone.arch = test_model_arch::gemma3;
    test_model_options paired = options_for("paired.gguf");
    paired.arch = test_model_arch::gemma3;
    paired.audio_projector_path = (dir_ / "audio.gguf").string();

    ASSERT_TRUE(write_test_model(alone).has_value());
    ASSERT_TRUE(write_test_model(paired).has_value());

    EXPECT_TRUE(read_bytes(alone.out_path) == read_bytes(paired.out_path));
}

TEST_F(TestModelTest, DifferentSeedWritesADifferentAudioProjector) {
    test_model_options first = options_for("first.gguf");
    first.seed = 1;
    first.audio_projector_path = (dir_ / "first-audio.gguf").string();
    test_model_options second = options_for("second.gguf");
    second.seed = 2;
    second.audio_projector_path = (dir_ / "second-audio.gguf").string();

    ASSERT_TRUE(write_test_model(first).has_value());
    ASSERT_TRUE(write_test_model(second).has_value());

    EXPECT_FALSE(read_bytes(first.audio_projector_path) == read_bytes(second.audio_projector_path));
}

TEST_F(TestModelTest, RefusesToWriteTheAudioProjectorOverTheModel) {
    test_model_options options = options_for("model.gguf");
    options.audio_projector_path = (dir_ / "." / "model.gguf").string();

    const auto written = write_test_model(options);

    ASSERT_FALSE(written.has_value());
    EXPECT_EQ(written.error().find('\n'), std::string::npos);
    EXPECT_FALSE(fs::exists(options.out_path));
}

// The bench shape is a llama layout; gemma3's extra norms and tied output are not in it.
TEST_F(TestModelTest, RefusesTheBenchScaleForGemma3) {
    test_model_options options = options_for("model.gguf");
    options.arch = test_model_arch::gemma3;
    options.scale = osprey::tools::test_model_scale::bench;

    const auto written = write_test_model(options);

    ASSERT_FALSE(written.has_value());
    EXPECT_NE(written.error().find("bench"), std::string::npos);
    EXPECT_FALSE(fs::exists(options.out_path));
}

// The tool prints these for the bench model; they must describe the file actually written.
TEST_F(TestModelTest, ReportsTheParametersAndBytesItWrote) {
    const test_model_options options = options_for("model.gguf");

    const auto written = write_test_model(options);

    ASSERT_TRUE(written.has_value()) << written.error();
    EXPECT_EQ(written->n_bytes, fs::file_size(options.out_path));
    EXPECT_EQ(written->n_parameters, count_parameters(options.out_path));
}

// Both files are written in full before either is put in place, so a projector that cannot be
// written leaves no model behind either, and no temporary file.
TEST_F(TestModelTest, UnwritableAudioProjectorLeavesNoModel) {
    test_model_options options = options_for("model.gguf");
    options.audio_projector_path = (dir_ / "no-such-dir" / "audio.gguf").string();

    const auto written = write_test_model(options);

    ASSERT_FALSE(written.has_value());
    EXPECT_NE(written.error().find(options.audio_projector_path), std::string::npos);
    EXPECT_FALSE(fs::exists(options.out_path));
    EXPECT_FALSE(fs::exists(options.out_path + ".partial"));
}

}  // namespace
