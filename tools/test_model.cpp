#include "test_model.hpp"

#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <ggml.h>
#include <gguf.h>

#include "audio_projector_layout.hpp"
#include "gguf_weights.hpp"
#include "text_model_layout.hpp"

#ifndef OSPREY_DEFAULT_VOCAB
#error "OSPREY_DEFAULT_VOCAB must name the default vocab GGUF"
#endif

namespace osprey::tools {
namespace {

constexpr std::string_view tokenizer_prefix = "tokenizer.";
constexpr const char* tokens_key = "tokenizer.ggml.tokens";

// The audio projector draws from its own stream, so the text model's bytes are the same whether
// or not a projector is written in the same run.
constexpr uint64_t audio_projector_salt = 0x617564696f000000ULL;  // "audio"

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

// A file's metadata, tensor infos included, and how to draw its tensors' values when it is
// written: they are drawn only then, so that no file's weights are ever all in memory at once.
struct staged_file {
    gguf_ptr meta;
    std::vector<tensor_spec> specs;
    uint64_t seed = 0;
};

tl::expected<staged_file, std::string> stage_tensors(gguf_ptr meta, std::vector<tensor_spec> specs,
                                                     uint64_t seed) {
    auto added = add_tensor_infos(meta.get(), specs);
    if (!added) {
        return tl::unexpected(added.error());
    }
    return staged_file{std::move(meta), std::move(specs), seed};
}

tl::expected<staged_file, std::string> stage_text_model(const test_model_options& options) {
    // Checked before the vocab is read, so that a bad combination fails the same way every time.
    if (options.scale == test_model_scale::bench && options.arch != test_model_arch::llama) {
        return tl::unexpected(std::string("the bench shape is written only as a llama model"));
    }
    auto vocab = open_vocab(options.vocab_path);
    if (!vocab) {
        return tl::unexpected(vocab.error());
    }
    const uint32_t n_vocab = count_tokens(vocab->get());

    gguf_ptr meta(gguf_init_empty());
    set_text_hparams(meta.get(), options, n_vocab);
    copy_tokenizer(meta.get(), vocab->get());
    set_chat_template(meta.get(), options);
    return stage_tensors(std::move(meta), list_text_tensors(options, n_vocab), options.seed);
}

tl::expected<staged_file, std::string> stage_audio_projector(const test_model_options& options) {
    const uint32_t n_embd_text = shape_of(options).n_embd;

    gguf_ptr meta(gguf_init_empty());
    set_audio_projector_hparams(meta.get(), n_embd_text);
    return stage_tensors(std::move(meta), list_audio_projector_tensors(n_embd_text),
                         options.seed ^ audio_projector_salt);
}

// A staged file, where it goes, and what to call it in an error message.
struct output {
    staged_file file;
    std::string path;
    const char* what;
};

std::string partial_path(const output& out) {
    return out.path + ".partial";
}

void remove_partials(const std::vector<output>& outputs, size_t first, size_t last) {
    for (size_t i = first; i < last; ++i) {
        std::error_code ignored;
        std::filesystem::remove(partial_path(outputs[i]), ignored);
    }
}

// Writes each file under its temporary name; on failure removes those already written.
tl::expected<void, std::string> write_partials(const std::vector<output>& outputs) {
    for (size_t i = 0; i < outputs.size(); ++i) {
        const staged_file& file = outputs[i].file;
        if (!write_random_gguf(partial_path(outputs[i]), file.meta.get(), file.specs, file.seed)) {
            remove_partials(outputs, 0, i + 1);
            return tl::unexpected(std::string("cannot write the ") + outputs[i].what + " to " +
                                  outputs[i].path);
        }
    }
    return {};
}

// Renames only once every file is whole. A rename that fails here (the path is a directory, say)
// leaves any file already renamed in place; the rest are removed.
tl::expected<void, std::string> rename_into_place(const std::vector<output>& outputs) {
    for (size_t i = 0; i < outputs.size(); ++i) {
        std::error_code ec;
        std::filesystem::rename(partial_path(outputs[i]), outputs[i].path, ec);
        if (ec) {
            remove_partials(outputs, i, outputs.size());
            return tl::unexpected(std::string("cannot write the ") + outputs[i].what + " to " +
                                  outputs[i].path + ": " + ec.message());
        }
    }
    return {};
}

bool same_path(const std::string& a, const std::string& b) {
    std::error_code ec_a;
    std::error_code ec_b;
    const auto canonical_a = std::filesystem::weakly_canonical(a, ec_a);
    const auto canonical_b = std::filesystem::weakly_canonical(b, ec_b);
    return ec_a || ec_b ? a == b : canonical_a == canonical_b;
}

tl::expected<std::vector<output>, std::string> stage_outputs(const test_model_options& options) {
    std::vector<output> outputs;
    auto model = stage_text_model(options);
    if (!model) {
        return tl::unexpected(model.error());
    }
    outputs.push_back({std::move(*model), options.out_path, "model"});

    if (options.audio_projector_path.empty()) {
        return outputs;
    }
    // Both would be written through the same temporary file, and one would replace the other.
    if (same_path(options.audio_projector_path, options.out_path)) {
        return tl::unexpected("the audio projector and the model are both to be written to " +
                              options.out_path);
    }
    auto projector = stage_audio_projector(options);
    if (!projector) {
        return tl::unexpected(projector.error());
    }
    outputs.push_back({std::move(*projector), options.audio_projector_path, "audio projector"});
    return outputs;
}

}  // namespace

const char* default_vocab_path() {
    return OSPREY_DEFAULT_VOCAB;
}

tl::expected<written_test_model, std::string> write_test_model(const test_model_options& options) {
    const ggml_log_silencer silencer;

    auto outputs = stage_outputs(options);
    if (!outputs) {
        return tl::unexpected(outputs.error());
    }
    auto written = write_partials(*outputs).and_then([&] { return rename_into_place(*outputs); });
    if (!written) {
        return tl::unexpected(written.error());
    }

    // The text model is always the first output. Its size is only reported, so a file that cannot
    // be measured reports 0 rather than fail the run.
    std::error_code ec;
    const uintmax_t n_bytes = std::filesystem::file_size(options.out_path, ec);
    return written_test_model{count_values(outputs->front().file.specs), ec ? 0 : n_bytes};
}

}  // namespace osprey::tools
