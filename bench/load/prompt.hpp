#pragma once

#include <cstdint>
#include <string>

namespace osprey::bench::load {

// A made-up word that names request `index` and no other: base-70 digits of the index, least
// significant first, each spelled as a consonant-vowel syllable ("Bakedo"). Putting the fastest
// changing syllable first makes neighbouring requests differ from their first token on.
std::string make_lead_word(uint64_t index);

// The user message for request `index`: its lead word and number, then English-like filler from
// a fixed word list, `words` words in all (at least four). The filler is drawn by a generator
// seeded with both `seed` and `index`, so the whole text is reproducible for a given seed, the
// same for every server, and shares no prefix, nor any long run of words, with another request:
// no server can answer any part of it from a cache.
std::string make_prompt(uint64_t index, int words, uint64_t seed);

}  // namespace osprey::bench::load
