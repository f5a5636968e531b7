#include "engine/model.hpp"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <thread>

#include <chat.h>
#include <llama.h>
#include <mtmd.h>

#include "engine/fallback_template.hpp"
#include "engine/memory_plan.hpp"

namespace osprey::engine {

namespace {

constexpr int32_t default_ctx_cap = 4096;

core::error load_error(const std::string& path, std::string detail) {
    core::error e = core::make_error(core::error_code::invalid_value, "cannot load the model");
    e.internal_detail = "path=" + path + " reason=" + std::move(detail);
    return e;
}

}  // namespace

core::expected<void> check_chat_template(const std::string& text) {
    try {
        // llama.cpp's loader rethrows a parse error as a bare std::exception;
        // the parser itself says what is wrong.
        const common_chat_template parsed(text, "", "");
    } catch (const std::exception& e) {
        return core::unexpected(
            core::make_error(core::error_code::invalid_value,
                             std::string("the chat template does not parse: ") + e.what()));
    }
    return {};
}

core::expected<void> check_model_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return core::unexpected(load_error(path, "the file does not exist or cannot be read"));
    }
    char magic[4] = {};
    in.read(magic, sizeof magic);
    if (in.gcount() != 4 || std::string_view(magic, 4) != "GGUF") {
        return core::unexpected(load_error(path, "not a GGUF file (bad magic)"));
    }
    return {};
}

void initialize_backend() {
    install_llama_log();
    llama_backend_init();
}

namespace {

std::string read_meta(const llama_model* m, const char* key) {
    char buf[256] = {};
    if (llama_model_meta_val_str(m, key, buf, sizeof buf) < 0) {
        return {};
    }
    return buf;
}

bool forward_progress(float progress, void* user_data) {
    const auto* callback = static_cast<const load_progress*>(user_data);
    if (*callback) {
        (*callback)(progress);
    }
    return true;
}

int32_t default_threads() {
    return static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
}

llama_context_params context_params(const model_options& o, int32_t n_ctx_seq) {
    llama_context_params p = llama_context_default_params();
    // One KV stream per sequence, so that every request can use its full
    // n_ctx_seq whatever the others do.
    p.n_seq_max = static_cast<uint32_t>(o.parallel);
    p.kv_unified = false;
    p.n_ctx = static_cast<uint32_t>(n_ctx_seq) * p.n_seq_max;
    // A step holds the next token of every running sequence, so the batch is
    // never smaller than --parallel (which `osprey serve` refuses outright).
    p.n_batch = static_cast<uint32_t>(std::max(o.batch_size, o.parallel));
    p.n_ubatch = o.ubatch_size > 0 ? static_cast<uint32_t>(o.ubatch_size)
                                   : std::min<uint32_t>(p.n_batch, 512);
    p.n_threads = o.threads > 0 ? o.threads : default_threads();
    p.n_threads_batch = p.n_threads;
    p.no_perf = true;
    // llama.cpp's "auto" turns flash attention on for the CPU; for very small
    // models it measured 2-3 times slower per token here, hence the choice.
    p.flash_attn_type = o.flash_attn == "on"    ? LLAMA_FLASH_ATTN_TYPE_ENABLED
                        : o.flash_attn == "off" ? LLAMA_FLASH_ATTN_TYPE_DISABLED
                                                : LLAMA_FLASH_ATTN_TYPE_AUTO;
    return p;
}

}  // namespace

core::expected<std::unique_ptr<model>> model::load(const model_options& options,
                                                   const load_progress& progress) {
    if (auto ok = check_model_file(options.model_path); !ok) {
        return core::unexpected(ok.error());
    }
    std::unique_ptr<model> m(new model());
    take_llama_errors();  // only this load's errors explain its failure

    llama_model_params mp = llama_model_default_params();
    mp.progress_callback = forward_progress;
    mp.progress_callback_user_data = const_cast<load_progress*>(&progress);
    m->model_ = llama_model_load_from_file(options.model_path.c_str(), mp);
    if (!m->model_) {
        return core::unexpected(load_error(options.model_path, take_llama_errors()));
    }
    m->vocab_ = llama_model_get_vocab(m->model_);
    m->control_tokens_ = std::make_unique<special_tokens>(m->vocab_);
    m->media_cache_ = std::make_unique<embedding_cache>(options.media_cache_bytes);

    auto& info = m->info_;
    info.name = read_meta(m->model_, "general.name");
    info.architecture = read_meta(m->model_, "general.architecture");
    char desc[256] = {};
    llama_model_desc(m->model_, desc, sizeof desc);
    info.description = desc;
    info.n_params = llama_model_n_params(m->model_);
    info.size_bytes = llama_model_size(m->model_);
    info.n_ctx_train = llama_model_n_ctx_train(m->model_);
    info.n_vocab = llama_vocab_n_tokens(m->vocab_);

    int32_t n_ctx_seq = options.ctx_size;
    if (n_ctx_seq <= 0) {
        n_ctx_seq =
            info.n_ctx_train > 0 ? std::min(info.n_ctx_train, default_ctx_cap) : default_ctx_cap;
    }
    if (uint64_t{static_cast<uint32_t>(n_ctx_seq)} * static_cast<uint32_t>(options.parallel) >
        UINT32_MAX) {
        return core::unexpected(
            load_error(options.model_path,
                       "--ctx-size times --parallel exceeds the 4294967295 tokens "
                       "that llama.cpp can address; lower either"));
    }
    const llama_context_params cp = context_params(options, n_ctx_seq);
    llama_model_params quiet = mp;
    quiet.progress_callback = nullptr;  // the plan loads metadata only
    auto plan = plan_memory(options.model_path, quiet, cp);
    if (!plan) {
        plan.error().internal_detail = "path=" + options.model_path +
                                       " ctx_per_sequence=" + std::to_string(n_ctx_seq) +
                                       " parallel=" + std::to_string(options.parallel) +
                                       " reason=" + plan.error().internal_detail;
        return core::unexpected(plan.error());
    }
    info.parallel = options.parallel;
    info.kv_cache_bytes = plan->kv_cache_bytes;
    info.compute_bytes = plan->compute_bytes;
    info.available_bytes = plan->available_bytes;
    m->context_ = llama_init_from_model(m->model_, cp);
    if (!m->context_) {
        return core::unexpected(
            load_error(options.model_path, "cannot create the context: " + take_llama_errors()));
    }
    info.n_ctx_seq = static_cast<int32_t>(llama_n_ctx_seq(m->context_));

    const char* own_template = llama_model_chat_template(m->model_, nullptr);
    info.has_chat_template = own_template != nullptr && *own_template != '\0';
    std::string chat_template = options.chat_template;
    if (chat_template.empty() && !info.has_chat_template) {
        chat_template = fallback_template;
    }
    try {
        auto templates = common_chat_templates_init(m->model_, chat_template);
        m->templates_ = templates.release();
    } catch (const std::exception& e) {
        return core::unexpected(
            load_error(options.model_path, std::string("bad chat template: ") + e.what()));
    }

    if (!options.mmproj_path.empty()) {
        if (auto ok = check_model_file(options.mmproj_path); !ok) {
            return core::unexpected(ok.error());
        }
        mtmd_context_params pp = mtmd_context_params_default();
        pp.use_gpu = false;
        pp.print_timings = false;
        pp.warmup = false;
        pp.n_threads = options.threads > 0 ? options.threads : default_threads();
        m->projector_ = mtmd_init_from_file(options.mmproj_path.c_str(), m->model_, pp);
        if (!m->projector_) {
            return core::unexpected(load_error(options.mmproj_path, take_llama_errors()));
        }
        info.has_projector = true;
        info.has_vision = mtmd_support_vision(m->projector_);
        info.has_audio = mtmd_support_audio(m->projector_);
    }
    return m;
}

model::~model() {
    if (projector_) {
        mtmd_free(projector_);
    }
    if (templates_) {
        common_chat_templates_free(templates_);
    }
    if (context_) {
        llama_free(context_);
    }
    if (model_) {
        llama_model_free(model_);
    }
}

}  // namespace osprey::engine
