#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/chat_request.hpp"
#include "core/error.hpp"
#include "core/events.hpp"
#include "engine/answer.hpp"

struct llama_context;
struct llama_sampler;
struct llama_vocab;

namespace osprey::engine {

// Compiles `grammar` for the vocabulary, as a sampler; null when it does not
// compile. The caller frees it.
llama_sampler* compile_grammar(const llama_vocab* vocab, const grammar_spec& grammar);

// One choice's sampler chain: a grammar when the answer must hold to one,
// penalties, top-k, top-p, min-p, temperature and a seeded draw, or a greedy
// pick at temperature 0. Engine thread only.
class sampler {
public:
    // `grammar` was compiled once already, by output_grammar or when the
    // prompt was prepared; empty for free text.
    sampler(const core::sampling_params& params, const llama_vocab* vocab, int32_t n_vocab,
            uint32_t seed, const grammar_spec& grammar = {});
    ~sampler();
    sampler(const sampler&) = delete;
    sampler& operator=(const sampler&) = delete;

    // Samples from the logits of batch row `row` and records the token for
    // the penalties and the grammar. Errors: internal, when llama.cpp throws
    // (a grammar that no token can continue does).
    core::expected<int32_t> sample(llama_context* ctx, int32_t row);

private:
    void add_grammar(const llama_vocab* vocab, const grammar_spec& grammar);
    void add_logit_bias(const std::vector<std::pair<int32_t, float>>& bias, int32_t n_vocab);

    llama_sampler* chain_ = nullptr;
};

// The log-probability of `token` under the model's own distribution (the
// softmax of the raw logits, before any sampling setting), and the `top_n`
// most likely tokens with theirs. `piece` turns a token into its text.
core::token_logprob compute_logprob(const float* logits, int32_t n_vocab, int32_t token,
                                    int32_t top_n,
                                    const std::function<std::string(int32_t)>& piece);

}  // namespace osprey::engine
