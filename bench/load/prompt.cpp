#include "bench/load/prompt.hpp"

#include <array>
#include <random>
#include <string_view>

namespace osprey::bench::load {

namespace {

constexpr std::string_view consonants = "bdfgklmnprstvz";
constexpr std::string_view vowels = "aeiou";
constexpr uint64_t syllables = consonants.size() * vowels.size();

// Plain, common words, so that the filler tokenizes like prose in any vocabulary.
constexpr std::array<std::string_view, 128> filler_words = {
    "the",     "a",      "small",   "river",    "runs",   "past",    "old",     "stone",
    "houses",  "where",  "people",  "keep",     "bread",  "and",     "tea",     "for",
    "winter",  "nights", "while",   "children", "learn",  "to",      "count",   "birds",
    "on",      "long",   "wires",   "above",    "green",  "fields",  "every",   "morning",
    "baker",   "opens",  "her",     "shop",     "early",  "before",  "sun",     "climbs",
    "over",    "hills",  "near",    "harbour",  "boats",  "rest",    "quietly", "in",
    "grey",    "water",  "sailors", "mend",     "nets",   "with",    "careful", "hands",
    "market",  "sells",  "apples",  "cheese",   "wool",   "candles", "simple",  "tools",
    "teacher", "reads",  "story",   "about",    "fox",    "who",     "found",   "lantern",
    "under",   "bridge", "it",      "glowed",   "softly", "through", "fog",     "until",
    "dawn",    "came",   "back",    "village",  "bells",  "ring",    "twice",   "at",
    "noon",    "cats",   "sleep",   "warm",     "roofs",  "dogs",    "chase",   "leaves",
    "autumn",  "wind",   "carries", "smell",    "of",     "rain",    "from",    "distant",
    "forest",  "farmer", "walks",   "slowly",   "along",  "narrow",  "path",    "towards",
    "mill",    "wheel",  "turns",   "turning",  "grain",  "into",    "flour",   "that",
    "feeds",   "whole",  "town",    "meadow",   "snow",   "spring",  "summer",  "again",
};

}  // namespace

std::string make_lead_word(uint64_t index) {
    std::string word;
    // Two syllables at least, so that every lead word reads as a name rather than a particle.
    for (int n = 0; n < 2 || index > 0; ++n) {
        const auto s = index % syllables;
        index /= syllables;
        word.push_back(consonants[s / vowels.size()]);
        word.push_back(vowels[s % vowels.size()]);
    }
    word.front() = static_cast<char>(word.front() - 'a' + 'A');
    return word;
}

std::string make_prompt(uint64_t index, int words, uint64_t seed) {
    std::string text = make_lead_word(index) + " is request " + std::to_string(index) + ".";

    // std::seed_seq and std::mt19937_64 are specified to the bit, unlike the standard
    // distributions, so the modulo below gives the same words with every standard library.
    std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                      static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32)};
    std::mt19937_64 gen(seq);

    int until_period = 0;
    for (int i = 4; i < words; ++i) {
        std::string word(filler_words[gen() % filler_words.size()]);
        if (until_period == 0) {
            until_period = 6 + static_cast<int>(gen() % 9);
            word.front() = static_cast<char>(word.front() - 'a' + 'A');
        }
        text += ' ';
        text += word;
        if (--until_period == 0 || i + 1 == words) {
            text += '.';
        }
    }
    return text;
}

}  // namespace osprey::bench::load
