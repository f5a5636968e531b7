#include "bench/load/host_check.hpp"

#include <gtest/gtest.h>

namespace osprey::bench::load {
namespace {

TEST(LoopbackAddress, AcceptsLocalhostAndAll127Addresses) {
    EXPECT_EQ(loopback_address("localhost")->to_string(), "127.0.0.1");
    EXPECT_EQ(loopback_address("LocalHost")->to_string(), "127.0.0.1");
    EXPECT_EQ(loopback_address("127.0.0.1")->to_string(), "127.0.0.1");
    EXPECT_EQ(loopback_address("127.255.3.4")->to_string(), "127.255.3.4");
    EXPECT_EQ(loopback_address("::1")->to_string(), "::1");
}

TEST(LoopbackAddress, RefusesEverythingElse) {
    for (const char* host :
         {"", "0.0.0.0", "10.0.0.1", "128.0.0.1", "126.255.255.255", "::", "::2",
          "::ffff:127.0.0.1", "example.com", "localhost.", "localhost.example.com", "127.1",
          "127.0.0.1 ", " 127.0.0.1", "0x7f000001", "2130706433"}) {
        EXPECT_FALSE(loopback_address(host).has_value()) << "'" << host << "'";
    }
}

TEST(HostHeader, BracketsIpv6) {
    EXPECT_EQ(host_header(*loopback_address("::1"), 8080), "[::1]:8080");
    EXPECT_EQ(host_header(*loopback_address("127.0.0.2"), 80), "127.0.0.2:80");
}

}  // namespace
}  // namespace osprey::bench::load
