// Checks what the gemma3 model carries besides its weights: only its own keys, the tensor types
// and the tied output gemma3 checkpoints have, and a chat template that llama.cpp's own chat code
// (the code osprey renders prompts with) turns into gemma turns. multimodal_test.cpp checks that
// the model runs. Also checks the bench model's layout from its tensor list and keys alone, since
// its file is 190 MB.

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <chat.h>
#include <gguf.h>
#include <gtest/gtest.h>
#include <llama.h>

#include "gguf_weights.hpp"
#include "scratch_dir.hpp"
#include "test_model.hpp"
#include "text_model_layout.hpp"

namespace {

namespace fs = std::filesystem;

struct gguf_deleter {
    void operator()(gguf_context* ctx) const { gguf_free(ctx); }
};

struct model_deleter {
    void operator()(llama_model* model) const { llama_model_free(model); }
};

using gguf_ptr = std::unique_ptr<gguf_context, gguf_deleter>;
using model_ptr = std::unique_ptr<llama_model, model_deleter>;

void log_errors_only(ggml_log_level level, const char* text, void*) {
    if (level == GGML_LOG_LEVEL_ERROR) {
        std::fputs(text, stderr);
    }
}

common_chat_msg message(const std::string& role, const std::string& content) {
    common_chat_msg msg;
    msg.role = role;
    msg.content = content;
    return msg;
}

class TextModelLayoutTest : public testing::Test {
protected:
    static void SetUpTestSuite() { llama_log_set(log_errors_only, nullptr); }

    void SetUp() override {
        osprey::tools::test_model_options options;
        options.vocab_path = osprey::tools::default_vocab_path();
        options.out_path = path_.string();
        options.arch = osprey::tools::test_model_arch::gemma3;
        const auto written = osprey::tools::write_test_model(options);
        ASSERT_TRUE(written.has_value()) << written.error();
    }

    gguf_ptr open_meta() const {
        return gguf_ptr(gguf_init_from_file(path_.c_str(), {true, nullptr}));
    }

    // Only the vocabulary and the metadata: enough for the chat template, and quick.
    model_ptr load_vocab_only() const {
        llama_model_params params = llama_model_default_params();
        params.vocab_only = true;
        return model_ptr(llama_model_load_from_file(path_.c_str(), params));
    }

    // Renders as osprey's engine does: jinja, with the generation prompt, BOS left to the
    // tokenizer.
    std::string render(const std::vector<common_chat_msg>& messages) const {
        const model_ptr model = load_vocab_only();
        EXPECT_NE(model, nullptr);
        if (!model) {
            return {};
        }
        const common_chat_templates_ptr templates = common_chat_templates_init(model.get(), "");
        common_chat_templates_inputs inputs;
        inputs.messages = messages;
        inputs.add_generation_prompt = true;
        inputs.use_jinja = true;
        return common_chat_templates_apply(templates.get(), inputs).prompt;
    }

    osprey::testing::scratch_dir scratch_;
    const fs::path path_ = scratch_.path() / "gemma3.gguf";
};

TEST_F(TextModelLayoutTest, WritesOnlyGemma3KeysBesideTheTokenizer) {
    const gguf_ptr meta = open_meta();
    ASSERT_NE(meta, nullptr);

    for (int64_t id = 0; id < gguf_get_n_kv(meta.get()); ++id) {
        const std::string_view key = gguf_get_key(meta.get(), id);
        const bool own = key == "general.architecture" || key == "general.name" ||
                         key.starts_with("gemma3.") || key.starts_with("tokenizer.");
        EXPECT_TRUE(own) << key;
    }
    const int64_t arch = gguf_find_key(meta.get(), "general.architecture");
    ASSERT_GE(arch, 0);
    EXPECT_STREQ(gguf_get_val_str(meta.get(), arch), "gemma3");
}

// Gemma3 ties its output to the token embeddings; a separate output matrix would double the file.
TEST_F(TextModelLayoutTest, TiesTheOutputAndStoresMatricesAsQ8) {
    const gguf_ptr meta = open_meta();
    ASSERT_NE(meta, nullptr);

    const auto type_of = [&](const char* name) {
        const int64_t id = gguf_find_tensor(meta.get(), name);
        return id < 0 ? GGML_TYPE_COUNT : gguf_get_tensor_type(meta.get(), id);
    };
    EXPECT_EQ(type_of("output.weight"), GGML_TYPE_COUNT);
    EXPECT_EQ(type_of("token_embd.weight"), GGML_TYPE_Q8_0);
    EXPECT_EQ(type_of("blk.1.attn_output.weight"), GGML_TYPE_Q8_0);
    EXPECT_EQ(type_of("blk.1.ffn_down.weight"), GGML_TYPE_Q8_0);
    EXPECT_EQ(type_of("blk.0.attn_q_norm.weight"), GGML_TYPE_F32);
    EXPECT_EQ(type_of("blk.0.post_ffw_norm.weight"), GGML_TYPE_F32);
}

TEST_F(TextModelLayoutTest, StaysUnderEightMegabytes) {
    EXPECT_LT(fs::file_size(path_), 8u << 20);
}

TEST_F(TextModelLayoutTest, CarriesTheGemmaChatTemplate) {
    const model_ptr model = load_vocab_only();
    ASSERT_NE(model, nullptr);

    const char* tmpl = llama_model_chat_template(model.get(), nullptr);
    ASSERT_NE(tmpl, nullptr);
    EXPECT_STREQ(tmpl, osprey::tools::gemma3_chat_template());
}

TEST_F(TextModelLayoutTest, TemplateRendersGemmaTurns) {
    const std::string prompt =
        render({message("user", "Hi"), message("assistant", "Hello"), message("user", "And now?")});

    EXPECT_EQ(prompt,
              "<start_of_turn>user\nHi<end_of_turn>\n"
              "<start_of_turn>model\nHello<end_of_turn>\n"
              "<start_of_turn>user\nAnd now?<end_of_turn>\n"
              "<start_of_turn>model\n");
}

// Gemma has no system turn; the system prompt opens the first user turn instead.
TEST_F(TextModelLayoutTest, TemplateFoldsTheSystemPromptIntoTheFirstUserTurn) {
    const std::string prompt = render({message("system", "Be brief."), message("user", "Hi")});

    EXPECT_EQ(prompt, "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n");
}

// osprey finds each message's content in the rendered prompt by exact match, so the template
// must not trim or otherwise rewrite it.
TEST_F(TextModelLayoutTest, TemplateKeepsContentVerbatim) {
    const std::string content = "  \x1e spaced \x1e\n";

    const std::string prompt = render({message("user", content)});

    EXPECT_NE(prompt.find("<start_of_turn>user\n" + content + "<end_of_turn>"), std::string::npos)
        << prompt;
}

// The bench model, as the real llama vocabulary makes it.
constexpr int64_t n_vocab = 32000;

using osprey::tools::distribution;
using osprey::tools::tensor_spec;
using osprey::tools::weight_type;

osprey::tools::test_model_options bench_options(weight_type type) {
    osprey::tools::test_model_options options;
    options.scale = osprey::tools::test_model_scale::bench;
    options.bench_type = type;
    return options;
}

std::vector<tensor_spec> list_bench_tensors(weight_type type = weight_type::q4_0) {
    return osprey::tools::list_text_tensors(bench_options(type), n_vocab);
}

uint32_t u32_value(const gguf_context* meta, const char* key) {
    const int64_t id = gguf_find_key(meta, key);
    return id < 0 ? 0 : gguf_get_val_u32(meta, id);
}

bool is_norm(const std::string& name) {
    return name.ends_with("norm.weight");
}

// Several hundred million parameters: enough that decoding is dominated by the layers' matrix
// multiplications, as on a real model, and not so many that a benchmark machine strains.
TEST(BenchLayoutTest, HasSeveralHundredMillionParameters) {
    const std::vector<tensor_spec> specs = list_bench_tensors();

    const int64_t n_parameters = osprey::tools::count_values(specs);

    EXPECT_GE(n_parameters, 200'000'000);
    EXPECT_LE(n_parameters, 500'000'000);
    EXPECT_EQ(specs.size(), 3u + 9u * 24u);  // embeddings, output norm and matrix; 9 per layer
}

TEST(BenchLayoutTest, StoresMatricesAsTheChosenTypeAndNormsAsF32) {
    const std::pair<weight_type, ggml_type> cases[] = {
        {weight_type::q4_0, GGML_TYPE_Q4_0},
        {weight_type::q8_0, GGML_TYPE_Q8_0},
        {weight_type::f16, GGML_TYPE_F16},
    };
    for (const auto& [type, want] : cases) {
        SCOPED_TRACE(ggml_type_name(want));
        for (const auto& spec : list_bench_tensors(type)) {
            EXPECT_EQ(spec.type, is_norm(spec.name) ? GGML_TYPE_F32 : want) << spec.name;
            EXPECT_EQ(spec.n_dims, is_norm(spec.name) ? 1 : 2) << spec.name;
            EXPECT_EQ(spec.ne[0] % 32, 0) << spec.name;  // whole Q4_0 and Q8_0 blocks
        }
    }
}

// Weights as a trained llama starts from: normal with std 0.02; norms exactly 1.
TEST(BenchLayoutTest, DrawsWeightsAsAtInitialisation) {
    for (const auto& spec : list_bench_tensors()) {
        const bool norm = is_norm(spec.name);
        EXPECT_EQ(spec.draw, norm ? distribution::uniform : distribution::normal) << spec.name;
        EXPECT_FLOAT_EQ(spec.centre, norm ? 1.0f : 0.0f) << spec.name;
        EXPECT_FLOAT_EQ(spec.spread, norm ? 0.0f : 0.02f) << spec.name;
    }
}

// Grouped-query attention: the key and value matrices are a quarter of the query's height.
TEST(BenchLayoutTest, ShapesAttentionForGroupedQueries) {
    const std::vector<tensor_spec> specs = list_bench_tensors();
    const auto shape_of_tensor = [&](const std::string& name) {
        for (const auto& spec : specs) {
            if (spec.name == name) {
                return std::vector<int64_t>{spec.ne[0], spec.ne[1]};
            }
        }
        return std::vector<int64_t>{};
    };

    EXPECT_EQ(shape_of_tensor("token_embd.weight"), (std::vector<int64_t>{1024, n_vocab}));
    EXPECT_EQ(shape_of_tensor("blk.23.attn_q.weight"), (std::vector<int64_t>{1024, 1024}));
    EXPECT_EQ(shape_of_tensor("blk.23.attn_k.weight"), (std::vector<int64_t>{1024, 256}));
    EXPECT_EQ(shape_of_tensor("blk.23.attn_v.weight"), (std::vector<int64_t>{1024, 256}));
    EXPECT_EQ(shape_of_tensor("blk.23.ffn_down.weight"), (std::vector<int64_t>{2816, 1024}));
}

TEST(BenchLayoutTest, WritesLlamaKeysForTheBenchShape) {
    const gguf_ptr meta(gguf_init_empty());
    osprey::tools::set_text_hparams(meta.get(), bench_options(weight_type::q4_0), n_vocab);

    EXPECT_EQ(u32_value(meta.get(), "llama.embedding_length"), 1024u);
    EXPECT_EQ(u32_value(meta.get(), "llama.block_count"), 24u);
    EXPECT_EQ(u32_value(meta.get(), "llama.feed_forward_length"), 2816u);
    EXPECT_EQ(u32_value(meta.get(), "llama.attention.head_count"), 16u);
    EXPECT_EQ(u32_value(meta.get(), "llama.attention.head_count_kv"), 4u);
    EXPECT_EQ(u32_value(meta.get(), "llama.context_length"), 4096u);
    EXPECT_EQ(u32_value(meta.get(), "llama.rope.dimension_count"), 64u);
}

// Tests rely on the tiny model's Q8_0 matrices; the bench type must not leak into it.
TEST(BenchLayoutTest, BenchTypeLeavesTheTinyModelAlone) {
    osprey::tools::test_model_options options;
    options.bench_type = weight_type::f16;

    for (const auto& spec : osprey::tools::list_text_tensors(options, n_vocab)) {
        EXPECT_EQ(spec.type, is_norm(spec.name) ? GGML_TYPE_F32 : GGML_TYPE_Q8_0) << spec.name;
        EXPECT_EQ(spec.draw, distribution::uniform) << spec.name;
    }
}

}  // namespace
