#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/error.hpp"
#include "engine/multimodal.hpp"
#include "engine/special_tokens.hpp"

struct llama_model;
struct llama_context;
struct llama_vocab;
struct common_chat_templates;
struct mtmd_context;

namespace osprey::engine {

struct model_options {
    std::string model_path;
    std::string mmproj_path;          // empty: no projector
    int32_t ctx_size = 0;             // tokens per sequence; 0: min(training context, 4096)
    int32_t parallel = 4;             // sequences decoded together
    int32_t threads = 0;              // 0: all cores
    int32_t batch_size = 512;         // tokens per decode step
    int32_t ubatch_size = 0;          // tokens computed at once; 0: min(batch_size, 512)
    std::string flash_attn = "auto";  // "auto", "on" or "off"
    std::string chat_template;        // Jinja; empty: the model's own, or the fallback
    size_t media_cache_bytes = size_t{256} << 20;  // projector outputs kept for reuse
};

struct model_info {
    std::string name;  // general.name, when the file has one
    std::string architecture;
    std::string description;  // llama.cpp's one-line summary
    uint64_t n_params = 0;
    uint64_t size_bytes = 0;
    int32_t n_ctx_train = 0;
    int32_t n_ctx_seq = 0;  // what one request can use
    int32_t n_vocab = 0;
    bool has_chat_template = false;  // the GGUF has one (chat_template may replace it)
    bool has_projector = false;
    bool has_vision = false;       // the projector takes images (and video frames)
    bool has_audio = false;        // the projector takes audio
    int32_t parallel = 0;          // sequences decoded together
    uint64_t kv_cache_bytes = 0;   // the KV cache of all sequences together
    uint64_t compute_bytes = 0;    // llama.cpp's compute buffers
    uint64_t available_bytes = 0;  // host memory available when the context was planned
};

// Called with 0..1 while the weights load, on the loading thread.
using load_progress = std::function<void(float)>;

// A loaded model, its context and chat templates. Owns the llama.cpp objects
// and frees them in the right order. After loading, the vocabulary and the
// templates are read-only and may be used from any thread; the context
// belongs to the engine thread alone.
class model {
public:
    // Errors: invalid_value when the file is missing, unreadable or not a
    // GGUF model (the internal detail says what llama.cpp reported).
    static core::expected<std::unique_ptr<model>> load(const model_options& options,
                                                       const load_progress& progress);
    ~model();
    model(const model&) = delete;
    model& operator=(const model&) = delete;

    const model_info& info() const { return info_; }
    const llama_vocab* vocab() const { return vocab_; }
    llama_context* context() const { return context_; }
    const llama_model* llama() const { return model_; }
    const common_chat_templates* templates() const { return templates_; }
    const special_tokens& control_tokens() const { return *control_tokens_; }

    // The multimodal projector, or null. Tokenizing media with it is
    // thread-safe; encoding belongs to the engine thread alone.
    mtmd_context* projector() const { return projector_; }
    embedding_cache& media_cache() const { return *media_cache_; }

    // mtmd's encoder is not reentrant: prompts prepared on several workers
    // take turns with it.
    std::mutex& encoder_mutex() const { return encoder_mutex_; }

    // How many media files were decoded and media chunks encoded: a cache
    // hit costs neither.
    uint64_t media_decodes() const { return media_decodes_.load(); }
    uint64_t media_encodes() const { return media_encodes_.load(); }
    void count_media_decode() const { ++media_decodes_; }
    void count_media_encode() const { ++media_encodes_; }

private:
    model() = default;

    llama_model* model_ = nullptr;
    llama_context* context_ = nullptr;
    const llama_vocab* vocab_ = nullptr;
    common_chat_templates* templates_ = nullptr;
    mtmd_context* projector_ = nullptr;
    std::unique_ptr<special_tokens> control_tokens_;
    std::unique_ptr<embedding_cache> media_cache_;
    mutable std::mutex encoder_mutex_;
    mutable std::atomic<uint64_t> media_decodes_ = 0;
    mutable std::atomic<uint64_t> media_encodes_ = 0;
    model_info info_;
};

// Initializes llama.cpp's backends and routes its logging. Call once, first.
void initialize_backend();

// Checks what llama.cpp would otherwise report in a page of log lines: that
// the file exists, can be read, and starts with the GGUF magic.
// Errors: invalid_value, with the reason in the internal detail.
core::expected<void> check_model_file(const std::string& path);

// Parses a Jinja chat template the way model loading will, so that a bad
// one is refused before the model loads, with the parser's own message.
// Errors: invalid_value, with the reason in the public message.
core::expected<void> check_chat_template(const std::string& text);

// Routes llama.cpp's and ggml's own log lines to the "llama" logger at debug
// level, and keeps the errors they report for diagnostics.
void install_llama_log();

// The errors llama.cpp logged on this thread since the last call, joined.
std::string take_llama_errors();

}  // namespace osprey::engine
