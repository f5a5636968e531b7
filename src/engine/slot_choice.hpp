#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace osprey::engine {

// What the choice of a sequence for a new prompt looks at, per sequence.
struct slot_view {
    bool busy = false;       // a choice is running in it
    size_t kept = 0;         // tokens its KV cache holds from earlier prompts
    size_t reusable = 0;     // of those, the new prompt's leading tokens
    uint64_t last_used = 0;  // when it was last given a choice; 0: never
};

// The index of the free sequence a new prompt should take, or none when all
// are busy. In order of weight:
//   1. One whose reused tokens outweigh the kept tokens the prompt would
//      evict (it keeps `reusable` of `kept` and drops the rest, so the cost is
//      kept - 2 * reusable): a conversation's next turn goes back to its own
//      sequence, and the cheapest such one wins.
//   2. One next to busy sequences, two neighbours before one. With a KV
//      stream per sequence, llama.cpp decodes only consecutive sequence ids
//      in one pass, so each gap between busy ids costs every later decode
//      step another pass over the weights.
//   3. The cheapest, so that a few chat-template tokens in common do not
//      evict another conversation's cached prompt while empty ones wait.
//   4. The one used least long ago, a never-used one first.
std::optional<size_t> choose_slot(std::span<const slot_view> slots);

}  // namespace osprey::engine
