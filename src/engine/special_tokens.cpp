#include "engine/special_tokens.hpp"

#include <algorithm>

#include <llama.h>

namespace osprey::engine {

special_tokens::special_tokens(const llama_vocab* vocab) {
    const int32_t n = llama_vocab_n_tokens(vocab);
    for (int32_t t = 0; t < n; ++t) {
        if ((llama_vocab_get_attr(vocab, t) & LLAMA_TOKEN_ATTR_CONTROL) == 0) {
            continue;
        }
        const char* text = llama_vocab_get_text(vocab, t);
        if (text != nullptr && *text != '\0') {
            by_length_.push_back({text, t});
        }
    }
    std::stable_sort(by_length_.begin(), by_length_.end(),
                     [](const entry& a, const entry& b) { return a.text.size() > b.text.size(); });
}

std::vector<special_tokens::piece> special_tokens::split(std::string_view text) const {
    std::vector<piece> out;
    size_t plain_start = 0;
    size_t i = 0;
    while (i < text.size()) {
        const entry* found = nullptr;
        for (const auto& e : by_length_) {
            if (e.text[0] == text[i] && text.compare(i, e.text.size(), e.text) == 0) {
                found = &e;
                break;
            }
        }
        if (found == nullptr) {
            ++i;
            continue;
        }
        if (i > plain_start) {
            out.push_back({-1, std::string(text.substr(plain_start, i - plain_start))});
        }
        out.push_back({found->token, found->text});
        i += found->text.size();
        plain_start = i;
    }
    if (plain_start < text.size()) {
        out.push_back({-1, std::string(text.substr(plain_start))});
    }
    return out;
}

}  // namespace osprey::engine
