#include "bench/load/prompt.hpp"

#include <set>
#include <sstream>

#include <gtest/gtest.h>

namespace osprey::bench::load {
namespace {

std::string first_word(const std::string& text) {
    return text.substr(0, text.find(' '));
}

int count_words(const std::string& text) {
    std::istringstream in(text);
    int n = 0;
    for (std::string w; in >> w;) {
        ++n;
    }
    return n;
}

TEST(MakePrompt, StartsEveryRequestWithItsOwnWord) {
    std::set<std::string> seen;
    for (uint64_t i = 0; i < 20000; ++i) {
        ASSERT_TRUE(seen.insert(first_word(make_prompt(i, 8, 1))).second) << i;
    }
}

TEST(MakePrompt, ChangesTheFirstSyllableBetweenNeighbours) {
    EXPECT_NE(make_lead_word(41).substr(0, 2), make_lead_word(42).substr(0, 2));
}

TEST(MakePrompt, HasTheAskedNumberOfWords) {
    EXPECT_EQ(count_words(make_prompt(3, 500, 1)), 500);
    EXPECT_EQ(count_words(make_prompt(3, 1, 1)), 4);
}

TEST(MakePrompt, DependsOnlyOnIndexAndSeed) {
    EXPECT_EQ(make_prompt(5, 100, 9), make_prompt(5, 100, 9));
    EXPECT_NE(make_prompt(5, 100, 9), make_prompt(5, 100, 10));
}

}  // namespace
}  // namespace osprey::bench::load
