#include "bench/load/proc_memory.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

namespace osprey::bench::load {
namespace {

constexpr std::string_view status_text =
    "Name:\tosprey\nVmHWMx:\t1 kB\nVmHWM:\t  204800 kB\nVmRSS:\t    1024 kB\nThreads:\t9\n";

TEST(ParseStatusKib, ReadsTheNamedField) {
    EXPECT_EQ(parse_status_kib(status_text, "VmHWM"), 204800);
    EXPECT_EQ(parse_status_kib(status_text, "VmRSS"), 1024);
}

TEST(ParseStatusKib, IsNulloptForAMissingOrMalformedField) {
    EXPECT_EQ(parse_status_kib(status_text, "VmSwap"), std::nullopt);
    EXPECT_EQ(parse_status_kib(status_text, "Vm"), std::nullopt);
    EXPECT_EQ(parse_status_kib("VmRSS:\t kB\n", "VmRSS"), std::nullopt);
    EXPECT_EQ(parse_status_kib("VmRSS:", "VmRSS"), std::nullopt);
}

TEST(ReadStatusKib, ReadsThisProcess) {
    EXPECT_GT(read_status_kib(static_cast<int>(getpid()), "VmRSS").value_or(0), 0);
}

}  // namespace
}  // namespace osprey::bench::load
