#include "engine/slot_choice.hpp"

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
        const bool reuse_wins = cost < 0;
        // Among reusing slots only the cost counts; neighbours break no tie there.
        const int neighbours = reuse_wins ? 0 : busy_neighbours(slots, i);
        const rank r{!reuse_wins, reuse_wins ? cost : 0, -neighbours, cost, s.last_used};
        if (!best || r < best_rank) {
            best = i;
            best_rank = r;
        }
    }
    return best;
}

}  // namespace osprey::engine
