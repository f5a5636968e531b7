#pragma once

#include <cstdio>
#include <cstdlib>

// A fuzz target's own invariants. A failed check aborts, which libFuzzer
// records as a crash with the input that caused it; assert() would vanish
// from a release build, and the fuzz builds are RelWithDebInfo.
#define OSPREY_FUZZ_CHECK(condition)                                                   \
    do {                                                                               \
        if (!(condition)) {                                                            \
            std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, \
                         #condition);                                                  \
            std::abort();                                                              \
        }                                                                              \
    } while (false)
