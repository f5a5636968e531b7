#include "engine/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <numeric>
#include <vector>

#include <llama.h>

namespace osprey::engine {

namespace {

// How far back presence and frequency penalties look, as in OpenAI's API
// (which does not say) and llama.cpp's default.
constexpr int32_t penalty_window = 64;

}  // namespace

sampler::sampler(const core::sampling_params& p, const llama_vocab* vocab, int32_t n_vocab,
                 uint32_t seed, const grammar_spec& grammar) {
    chain_ = llama_sampler_chain_init(llama_sampler_chain_default_params());
    // First, so that every later step chooses among tokens the grammar allows;
    // once the grammar is complete it allows only end-of-generation tokens.
    if (!grammar.empty()) {
        if (llama_sampler* g = compile_grammar(vocab, grammar)) {
            llama_sampler_chain_add(chain_, g);
        }
    }
    if (!p.logit_bias.empty()) {
        add_logit_bias(p.logit_bias, n_vocab);
    }
    if (p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f) {
        llama_sampler_chain_add(
            chain_, llama_sampler_init_penalties(n_vocab, penalty_window, 1.0f, p.frequency_penalty,
                                                 p.presence_penalty));
    }
    if (p.temperature <= 0.0f) {
        llama_sampler_chain_add(chain_, llama_sampler_init_greedy());
        return;
    }
    if (p.top_k > 0) {
        llama_sampler_chain_add(chain_, llama_sampler_init_top_k(p.top_k));
    }
    if (p.top_p < 1.0f) {
        llama_sampler_chain_add(chain_, llama_sampler_init_top_p(p.top_p, 1));
    }
    if (p.min_p > 0.0f) {
        llama_sampler_chain_add(chain_, llama_sampler_init_min_p(p.min_p, 1));
    }
    llama_sampler_chain_add(chain_, llama_sampler_init_temp(p.temperature));
    llama_sampler_chain_add(chain_, llama_sampler_init_dist(seed));
}

llama_sampler* compile_grammar(const llama_vocab* vocab, const grammar_spec& grammar) {
    if (!grammar.lazy) {
        return llama_sampler_init_grammar(vocab, grammar.text.c_str(), "root");
    }
    std::vector<const char*> patterns;
    patterns.reserve(grammar.trigger_patterns.size());
    for (const auto& p : grammar.trigger_patterns) {
        patterns.push_back(p.c_str());
    }
    return llama_sampler_init_grammar_lazy_patterns(
        vocab, grammar.text.c_str(), "root", patterns.data(), patterns.size(),
        grammar.trigger_tokens.data(), grammar.trigger_tokens.size());
}

// OpenAI's -100 bans the token outright; other biases are added as given.
void sampler::add_logit_bias(const std::vector<std::pair<int32_t, float>>& bias, int32_t n_vocab) {
    std::vector<llama_logit_bias> entries;
    entries.reserve(bias.size());
    for (const auto& [token, value] : bias) {
        entries.push_back({token, value <= -100.0f ? -INFINITY : value});
    }
    llama_sampler_chain_add(
        chain_, llama_sampler_init_logit_bias(n_vocab, static_cast<int32_t>(entries.size()),
                                              entries.data()));
}

sampler::~sampler() {
    llama_sampler_free(chain_);
}

core::expected<int32_t> sampler::sample(llama_context* ctx, int32_t row) {
    try {
        // llama_sampler_sample also accepts the token into the chain's state.
        return llama_sampler_sample(chain_, ctx, row);
    } catch (const std::exception& e) {
        core::error err = core::make_error(core::error_code::internal,
                                           "The model failed to generate a response.");
        err.internal_detail = std::string("sampling threw: ") + e.what();
        return core::unexpected(std::move(err));
    }
}

core::token_logprob compute_logprob(const float* logits, int32_t n_vocab, int32_t token,
                                    int32_t top_n,
                                    const std::function<std::string(int32_t)>& piece) {
    const float max_logit = *std::max_element(logits, logits + n_vocab);
    double sum = 0.0;
    for (int32_t i = 0; i < n_vocab; ++i) {
        sum += std::exp(static_cast<double>(logits[i] - max_logit));
    }
    const double log_sum = std::log(sum) + max_logit;
    auto logprob_of = [&](int32_t t) {
        return static_cast<float>(logits[t] - log_sum);
    };

    core::token_logprob out;
    out.token = piece(token);
    out.logprob = logprob_of(token);

    const int32_t n = std::clamp(top_n, 0, n_vocab);
    std::vector<int32_t> ids(static_cast<size_t>(n_vocab));
    std::iota(ids.begin(), ids.end(), 0);
    std::partial_sort(ids.begin(), ids.begin() + n, ids.end(),
                      [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
    for (int32_t i = 0; i < n; ++i) {
        out.top.push_back({piece(ids[i]), logprob_of(ids[i])});
    }
    return out;
}

}  // namespace osprey::engine
