#include "engine/slot_choice.hpp"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

namespace osprey::engine {
namespace {

slot_view busy() {
    return {true, 0, 0, 0, 1};
}

// A free sequence holding an earlier prompt and its answer; `reusable` of its
// tokens start the new prompt.
slot_view answered(size_t prompt, size_t answer, size_t reusable, uint64_t last_used) {
    return {false, prompt + answer, prompt, reusable, last_used};
}

slot_view never_used() {
    return {};
}

TEST(SlotChoice, NoneWhenEverySlotIsBusy) {
    const std::vector<slot_view> slots{busy(), busy()};
    EXPECT_FALSE(choose_slot(slots).has_value());
}

TEST(SlotChoice, FirstNeverUsedSlotOnAnIdleServer) {
    const std::vector<slot_view> slots{answered(20, 20, 0, 3), never_used(), never_used()};
    EXPECT_EQ(choose_slot(slots), 1u);
}

TEST(SlotChoice, LeastRecentlyUsedAmongEqualCosts) {
    const std::vector<slot_view> slots{answered(20, 20, 0, 7), answered(20, 20, 0, 2),
                                       answered(20, 20, 0, 5)};
    EXPECT_EQ(choose_slot(slots), 1u);
}

TEST(SlotChoice, ConversationReturnsToItsOwnSequence) {
    // Slot 3 holds the earlier turns: 90 of its 100 kept tokens start the prompt.
    const std::vector<slot_view> slots{busy(), never_used(), never_used(), answered(60, 40, 90, 1)};
    EXPECT_EQ(choose_slot(slots), 3u);
}

TEST(SlotChoice, ConversationReturnsWhenItsAnswerComesBackAsOtherTokens) {
    // The answer's text was tokenized anew in the next turn, so only the
    // earlier prompt's 14 tokens match; the 32 answer tokens are of no more use.
    const std::vector<slot_view> slots{never_used(), answered(14, 32, 14, 1)};
    EXPECT_EQ(choose_slot(slots), 1u);
}

TEST(SlotChoice, MostReuseAmongContinuedSlots) {
    const std::vector<slot_view> slots{answered(60, 40, 60, 1), busy(), answered(95, 200, 95, 2)};
    EXPECT_EQ(choose_slot(slots), 2u);
}

TEST(SlotChoice, TemplateTokensInCommonDoNotEvictACachedPrompt) {
    // Three shared template tokens do not outweigh the 150 the prompt would drop.
    const std::vector<slot_view> slots{answered(30, 120, 3, 1), never_used()};
    EXPECT_EQ(choose_slot(slots), 1u);
}

TEST(SlotChoice, NextToARunningSequenceBeforeAFarEmptyOne) {
    // Slot 1 evicts a cached prompt, but slot 2 would split each decode step.
    const std::vector<slot_view> slots{busy(), answered(30, 120, 0, 1), never_used(), never_used()};
    EXPECT_EQ(choose_slot(slots), 1u);
}

TEST(SlotChoice, CheapestAmongSlotsNextToRunningOnes) {
    const std::vector<slot_view> slots{busy(), answered(30, 120, 0, 1), answered(30, 120, 0, 2),
                                       busy(), never_used()};
    EXPECT_EQ(choose_slot(slots), 4u);
}

TEST(SlotChoice, FillsAGapBetweenRunningSequences) {
    const std::vector<slot_view> slots{never_used(), busy(), answered(40, 40, 0, 4), busy(),
                                       never_used()};
    EXPECT_EQ(choose_slot(slots), 2u);
}

TEST(SlotChoice, RunningSequencesStayConsecutiveAsTheyArrive) {
    // Sixteen prompts arrive one after another on a server whose 64 slots all
    // hold prompts of earlier requests, used in a scattered order.
    std::vector<slot_view> slots;
    for (uint64_t i = 0; i < 64; ++i) {
        slots.push_back(answered(30, 120, 2, (i * 37) % 64 + 1));
    }
    std::vector<size_t> taken;
    for (int n = 0; n < 16; ++n) {
        const auto i = choose_slot(slots);
        ASSERT_TRUE(i.has_value());
        slots[*i].busy = true;
        taken.push_back(*i);
    }
    std::sort(taken.begin(), taken.end());
    EXPECT_EQ(taken.back() - taken.front(), 15u) << "the busy ids should form one run";
}

}  // namespace
}  // namespace osprey::engine
