#include "engine/slot_choice.hpp"

#include <algorithm>
#include <tuple>

namespace osprey::engine {

namespace {

int busy_neighbours(std::span<const slot_view> slots, size_t i) {
    const bool before = i > 0 && slots[i - 1].busy;
    const bool after = i + 1 < slots.size() && slots[i + 1].busy;
    return (before ? 1 : 0) + (after ? 1 : 0);
}

}  // namespace

std::optional<size_t> choose_slot(std::span<const slot_view> slots) {
    // Smaller is better, compared in order: see the header.
    using rank = std::tuple<bool, int64_t, int, int64_t, uint64_t>;
    std::optional<size_t> best;
    rank best_rank;
    for (size_t i = 0; i < slots.size(); ++i) {
        const slot_view& s = slots[i];
        if (s.busy) {
            continue;
        }
        const int64_t cost = static_cast<int64_t>(s.kept) - 2 * static_cast<int64_t>(s.reusable);
        const size_t last_prompt = std::min(s.prompt, s.kept);
        const bool continued = cost < 0 || 2 * s.reusable > last_prompt;
        // Among continued slots the reuse counts before neighbours; among the rest, not at all.
        const auto reuse = continued ? static_cast<int64_t>(s.reusable) : 0;
        const rank r{!continued, -reuse, -busy_neighbours(slots, i), cost, s.last_used};
        if (!best || r < best_rank) {
            best = i;
            best_rank = r;
        }
    }
    return best;
}

}  // namespace osprey::engine
