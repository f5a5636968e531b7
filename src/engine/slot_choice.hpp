#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace osprey::engine {

// What the choice of a sequence for a new prompt looks at, per sequence.
struct slot_view {
    bool busy = false;       // a choice is running in it
    size_t kept = 0;         // tokens its KV cache holds from earlier choices
    size_t prompt = 0;       // of those, the ones its last prompt put there
    size_t reusable = 0;     // of those, the new prompt's leading tokens
    uint64_t last_used = 0;  // when it was last given a choice; 0: never
};

// The index of the free sequence a new prompt should take, or none when all
// are busy. In order of weight:
//   1. One the prompt continues: its reused tokens outweigh the kept tokens
//      it would evict (it keeps `reusable` of `kept` and drops the rest, so
//      the cost is kept - 2 * reusable), or those of the sequence's last
//      prompt alone. The second is a conversation's next turn whose answer
//      came back as other tokens (its text is tokenized anew, and with the
//      end of the turn before it), or a long system prompt in common. Most
//      reuse first.
//   2. One next to busy sequences, two neighbours before one. With a KV
//      stream per sequence, llama.cpp decodes only consecutive sequence ids
//      in one pass, so each gap between busy ids costs every later decode
//      step another pass over the weights.
//   3. The cheapest, so that a few chat-template tokens in common do not
//      evict another conversation's cached prompt while empty ones wait.
//   4. The one used least long ago, a never-used one first.
std::optional<size_t> choose_slot(std::span<const slot_view> slots);

}  // namespace osprey::engine
