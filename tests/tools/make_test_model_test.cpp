// Runs osprey-make-test-model as the Makefile does, then proves with llama.cpp itself that the
// file is a usable llama model: it loads, tokenizes with the real vocabulary and decodes.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <llama.h>

#include "scratch_dir.hpp"
#include "test_model.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;

using osprey::tools::test_model_default_shape;

constexpr int vocab_size = 32000;

struct run_result {
    int status = -1;  // as run_redirected returns it
    std::string out;
    std::string err;
};

struct model_deleter {
    void operator()(llama_model* model) const { llama_model_free(model); }
};

struct context_deleter {
    void operator()(llama_context* ctx) const { llama_free(ctx); }
};

using model_ptr = std::unique_ptr<llama_model, model_deleter>;
using context_ptr = std::unique_ptr<llama_context, context_deleter>;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

size_t count_lines(std::string_view text) {
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Returns the program's exit status, or -1 when it could not start or did not exit normally.
int run_redirected(std::vector<std::string> args, const fs::path& out, const fs::path& err) {
    std::vector<char*> argv;
    for (auto& arg : args) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);

    constexpr int flags = O_WRONLY | O_CREAT | O_TRUNC;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), flags, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), flags, 0644);

    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        return -1;
    }

    int wait_status = 0;
    if (waitpid(pid, &wait_status, 0) != pid || !WIFEXITED(wait_status)) {
        return -1;
    }
    return WEXITSTATUS(wait_status);
}

// llama.cpp narrates every load at info level; only its errors help when a test fails.
void log_errors_only(ggml_log_level level, const char* text, void*) {
    if (level == GGML_LOG_LEVEL_ERROR) {
        std::fputs(text, stderr);
    }
}

// Returns an empty list if the text needs more than 64 tokens, far more than any text here.
std::vector<llama_token> tokenize(const llama_vocab* vocab, const std::string& text,
                                  bool add_special) {
    std::vector<llama_token> tokens(64);
    const int n = llama_tokenize(vocab, text.c_str(), static_cast<int>(text.size()), tokens.data(),
                                 static_cast<int>(tokens.size()), add_special, false);
    tokens.resize(static_cast<size_t>(std::max(n, 0)));
    return tokens;
}

bool all_finite(const float* values, int n) {
    return std::all_of(values, values + n, [](float value) { return std::isfinite(value); });
}

bool has_spread(const float* values, int n) {
    const auto [low, high] = std::minmax_element(values, values + n);
    return *high > *low;
}

void expect_one_line_failure(const run_result& result) {
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(count_lines(result.err), 1u) << result.err;
    EXPECT_TRUE(result.err.starts_with("osprey-make-test-model: ")) << result.err;
}

class MakeTestModelTest : public testing::Test {
protected:
    static void SetUpTestSuite() {
        llama_log_set(log_errors_only, nullptr);
        llama_backend_init();
    }

    static void TearDownTestSuite() { llama_backend_free(); }

    // Runs the generator with stdout and stderr sent to files, so the test sees exactly what a
    // Makefile would, and no shell stands between the test and the arguments.
    run_result run_tool(std::vector<std::string> args) const {
        args.insert(args.begin(), OSPREY_MAKE_TEST_MODEL);
        const fs::path out = dir_ / "stdout.txt";
        const fs::path err = dir_ / "stderr.txt";

        run_result result;
        result.status = run_redirected(args, out, err);
        result.out = read_file(out);
        result.err = read_file(err);
        return result;
    }

    // Writes a model with the default vocab; fails the test if the tool does.
    fs::path make_model(const std::string& name, std::vector<std::string> extra = {}) const {
        const fs::path path = dir_ / name;
        extra.insert(extra.begin(), {"--out", path.string()});
        const run_result result = run_tool(extra);
        EXPECT_EQ(result.status, 0) << result.err;
        EXPECT_EQ(result.err, "");
        return path;
    }

    static model_ptr load_model(const fs::path& path) {
        llama_model_params params = llama_model_default_params();
        params.n_gpu_layers = 0;
        return model_ptr(llama_model_load_from_file(path.c_str(), params));
    }

    static std::string meta_string(const llama_model* model, const char* key) {
        char buf[256] = {};
        if (llama_model_meta_val_str(model, key, buf, sizeof(buf)) < 0) {
            return "(missing)";
        }
        return buf;
    }

    osprey::testing::scratch_dir scratch_;
    const fs::path dir_ = scratch_.path();
};

TEST_F(MakeTestModelTest, LoadsAsLlamaWithTheWholeVocabulary) {
    const model_ptr model = load_model(make_model("model.gguf"));
    ASSERT_NE(model, nullptr);

    const llama_vocab* vocab = llama_model_get_vocab(model.get());
    EXPECT_EQ(llama_vocab_n_tokens(vocab), vocab_size);
    EXPECT_EQ(llama_vocab_type(vocab), LLAMA_VOCAB_TYPE_SPM);
    EXPECT_EQ(meta_string(model.get(), "general.architecture"), "llama");
    EXPECT_EQ(meta_string(model.get(), "general.name"), osprey::tools::test_model_name);

    const auto& shape = test_model_default_shape;
    EXPECT_EQ(llama_model_n_ctx_train(model.get()), static_cast<int>(shape.n_ctx_train));
    EXPECT_EQ(llama_model_n_embd(model.get()), static_cast<int>(shape.n_embd));
    EXPECT_EQ(llama_model_n_layer(model.get()), static_cast<int>(shape.n_layer));
    EXPECT_EQ(llama_model_n_head(model.get()), static_cast<int>(shape.n_head));
    EXPECT_EQ(llama_model_n_head_kv(model.get()), static_cast<int>(shape.n_head_kv));
}

// osprey's tests rely on its fallback template, which only runs when the model carries none.
TEST_F(MakeTestModelTest, WritesNoChatTemplate) {
    const model_ptr model = load_model(make_model("model.gguf"));
    ASSERT_NE(model, nullptr);

    EXPECT_EQ(llama_model_chat_template(model.get(), nullptr), nullptr);
}

TEST_F(MakeTestModelTest, TokenizesWithTheRealVocabulary) {
    const model_ptr model = load_model(make_model("model.gguf"));
    ASSERT_NE(model, nullptr);
    const llama_vocab* vocab = llama_model_get_vocab(model.get());

    // The ids llama.cpp's own vocab tests expect from this vocabulary for this text.
    EXPECT_EQ(tokenize(vocab, "Hello world", false), (std::vector<llama_token>{15043, 3186}));
}

// A prompt, then one more token through the KV cache, as a generation loop would run them.
TEST_F(MakeTestModelTest, DecodesToFiniteLogits) {
    const model_ptr model = load_model(make_model("model.gguf"));
    ASSERT_NE(model, nullptr);
    const llama_vocab* vocab = llama_model_get_vocab(model.get());

    std::vector<llama_token> tokens =
        tokenize(vocab, "The quick brown fox jumps over the lazy dog.", true);
    ASSERT_GT(tokens.size(), 3u);
    EXPECT_EQ(tokens[0], llama_vocab_bos(vocab));

    llama_context_params params = llama_context_default_params();
    params.n_ctx = 128;
    params.n_batch = 128;
    params.n_threads = 2;
    params.n_threads_batch = 2;
    const context_ptr ctx(llama_init_from_model(model.get(), params));
    ASSERT_NE(ctx, nullptr);

    const auto n_prompt = static_cast<int32_t>(tokens.size());
    ASSERT_EQ(llama_decode(ctx.get(), llama_batch_get_one(tokens.data(), n_prompt)), 0);
    const float* logits = llama_get_logits_ith(ctx.get(), -1);
    ASSERT_NE(logits, nullptr);
    EXPECT_TRUE(all_finite(logits, vocab_size));
    EXPECT_TRUE(has_spread(logits, vocab_size));

    const auto most_likely = std::max_element(logits, logits + vocab_size);
    llama_token next = static_cast<llama_token>(most_likely - logits);
    ASSERT_EQ(llama_decode(ctx.get(), llama_batch_get_one(&next, 1)), 0);
    logits = llama_get_logits_ith(ctx.get(), -1);
    ASSERT_NE(logits, nullptr);
    EXPECT_TRUE(all_finite(logits, vocab_size));
}

TEST_F(MakeTestModelTest, SameSeedWritesIdenticalBytes) {
    const std::string first = read_file(make_model("first.gguf", {"--seed", "7"}));
    const std::string second = read_file(make_model("second.gguf", {"--seed", "7"}));

    // EXPECT_TRUE rather than EXPECT_EQ: a failure should not print five megabytes.
    EXPECT_FALSE(first.empty());
    EXPECT_TRUE(first == second);
}

TEST_F(MakeTestModelTest, DefaultSeedIs42) {
    const std::string implied = read_file(make_model("implied.gguf"));
    const std::string named = read_file(make_model("named.gguf", {"--seed", "42"}));

    EXPECT_TRUE(implied == named);
}

// Only the weights change with the seed, so the files differ in content but not in size.
TEST_F(MakeTestModelTest, DifferentSeedWritesDifferentWeights) {
    const std::string first = read_file(make_model("first.gguf", {"--seed", "1"}));
    const std::string second = read_file(make_model("second.gguf", {"--seed", "2"}));

    EXPECT_EQ(first.size(), second.size());
    EXPECT_FALSE(first == second);
}

// Every CI run writes the model afresh and many tests load it, so it has to stay small.
TEST_F(MakeTestModelTest, StaysUnderEightMegabytes) {
    const fs::path path = make_model("model.gguf");

    EXPECT_LT(fs::file_size(path), 8u << 20);
}

TEST_F(MakeTestModelTest, ArchGemma3WritesAGemma3Model) {
    const model_ptr model = load_model(make_model("gemma3.gguf", {"--arch", "gemma3"}));
    ASSERT_NE(model, nullptr);

    EXPECT_EQ(meta_string(model.get(), "general.architecture"), "gemma3");
    EXPECT_EQ(llama_model_n_embd(model.get()),
              static_cast<int>(osprey::tools::test_model_gemma3_shape.n_embd));
    EXPECT_NE(llama_model_chat_template(model.get(), nullptr), nullptr);
}

// The projector is written in the same run as the model, and the seed fixes both.
TEST_F(MakeTestModelTest, SameSeedWritesIdenticalGemma3AndAudioProjector) {
    const auto write = [&](const std::string& name) {
        make_model(name + ".gguf", {"--arch", "gemma3", "--seed", "5", "--audio-projector-out",
                                    (dir_ / (name + "-audio.gguf")).string()});
        return read_file(dir_ / (name + ".gguf")) + read_file(dir_ / (name + "-audio.gguf"));
    };
    const std::string first = write("first");
    const std::string second = write("second");

    EXPECT_GT(first.size(), 5u << 20);
    EXPECT_TRUE(first == second);
}

TEST_F(MakeTestModelTest, UnknownArchFailsWithOneLine) {
    const fs::path out = dir_ / "model.gguf";

    expect_one_line_failure(run_tool({"--out", out.string(), "--arch", "gemma4"}));
    EXPECT_FALSE(fs::exists(out));
}

TEST_F(MakeTestModelTest, MissingVocabFailsWithOneLine) {
    const fs::path out = dir_ / "model.gguf";
    const fs::path vocab = dir_ / "no-such-vocab.gguf";

    const run_result result = run_tool({"--out", out.string(), "--vocab", vocab.string()});

    expect_one_line_failure(result);
    EXPECT_NE(result.err.find(vocab.string()), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(out));
}

TEST_F(MakeTestModelTest, VocabThatIsNotGgufFailsWithOneLine) {
    const fs::path out = dir_ / "model.gguf";
    const fs::path vocab = dir_ / "vocab.gguf";
    std::ofstream(vocab) << "this is not a GGUF file\n";

    const run_result result = run_tool({"--out", out.string(), "--vocab", vocab.string()});

    expect_one_line_failure(result);
    EXPECT_FALSE(fs::exists(out));
}

TEST_F(MakeTestModelTest, UnwritableOutputFailsWithOneLine) {
    const fs::path out = dir_ / "no-such-dir" / "model.gguf";

    const run_result result = run_tool({"--out", out.string()});

    expect_one_line_failure(result);
    EXPECT_FALSE(fs::exists(out.parent_path()));
}

// A failed write must leave neither a model nor the temporary file beside it.
TEST_F(MakeTestModelTest, OutputThatIsADirectoryFailsAndLeavesNoPartialFile) {
    const fs::path out = dir_ / "taken";
    fs::create_directory(out);
    fs::create_directory(out / "keep");

    const run_result result = run_tool({"--out", out.string()});

    expect_one_line_failure(result);
    EXPECT_TRUE(fs::is_directory(out / "keep"));
    EXPECT_FALSE(fs::exists(dir_ / "taken.partial"));
}

TEST_F(MakeTestModelTest, MissingOutFailsWithOneLine) {
    expect_one_line_failure(run_tool({}));
}

TEST_F(MakeTestModelTest, BadSeedFailsWithOneLine) {
    const fs::path out = dir_ / "model.gguf";

    expect_one_line_failure(run_tool({"--out", out.string(), "--seed", "many"}));
    expect_one_line_failure(run_tool({"--out", out.string(), "--seed", "-3"}));
    EXPECT_FALSE(fs::exists(out));
}

// --shape tiny names the default; it must not change a byte of what tests load.
TEST_F(MakeTestModelTest, ShapeTinyWritesTheDefaultModel) {
    const std::string implied = read_file(make_model("implied.gguf"));
    const std::string named = read_file(make_model("named.gguf", {"--shape", "tiny"}));

    EXPECT_TRUE(implied == named);
}

TEST_F(MakeTestModelTest, UnknownShapeFailsWithOneLine) {
    const fs::path out = dir_ / "model.gguf";

    expect_one_line_failure(run_tool({"--out", out.string(), "--shape", "huge"}));
    EXPECT_FALSE(fs::exists(out));
}

TEST_F(MakeTestModelTest, UnknownTypeFailsWithOneLine) {
    const fs::path out = dir_ / "model.gguf";

    const run_result result =
        run_tool({"--out", out.string(), "--shape", "bench", "--type", "q5_k"});

    expect_one_line_failure(result);
    EXPECT_NE(result.err.find("--type"), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(out));
}

// The tiny models' matrices stay Q8_0, so a --type that would be ignored is refused instead.
TEST_F(MakeTestModelTest, TypeWithoutBenchShapeFailsWithOneLine) {
    const fs::path out = dir_ / "model.gguf";

    expect_one_line_failure(run_tool({"--out", out.string(), "--type", "f16"}));
    expect_one_line_failure(run_tool({"--out", out.string(), "--shape", "tiny", "--type", "q4_0"}));
    EXPECT_FALSE(fs::exists(out));
}

TEST_F(MakeTestModelTest, BenchShapeWithGemma3FailsWithOneLine) {
    const fs::path out = dir_ / "model.gguf";

    expect_one_line_failure(
        run_tool({"--out", out.string(), "--shape", "bench", "--arch", "gemma3"}));
    EXPECT_FALSE(fs::exists(out));
}

TEST_F(MakeTestModelTest, HelpPrintsUsage) {
    const run_result result = run_tool({"--help"});

    EXPECT_EQ(result.status, 0);
    EXPECT_NE(result.out.find("--out"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("--vocab"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("--seed"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("--arch"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("--audio-projector-out"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("--shape"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("--type"), std::string::npos) << result.out;
}

}  // namespace
