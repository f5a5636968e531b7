#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct llama_vocab;

namespace osprey::engine {

// The model's control tokens by their text ("<|im_start|>", "</s>"), so that
// a rendered chat can be tokenized with control tokens recognised in the
// template's own text and never in a client's message content.
//
// Built once at load; immutable and thread-safe after that.
class special_tokens {
public:
    explicit special_tokens(const llama_vocab* vocab);

    // One piece of a text: a control token, or plain text between them.
    struct piece {
        int32_t token = -1;  // -1 for plain text
        std::string text;
    };

    // Splits `text` at every control token's text, longest first where two
    // start at the same place, as llama.cpp's tokenizer does.
    std::vector<piece> split(std::string_view text) const;

private:
    struct entry {
        std::string text;
        int32_t token;
    };
    std::vector<entry> by_length_;  // longest first
};

}  // namespace osprey::engine
