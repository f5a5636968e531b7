#include "media/address_policy.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "parse_helpers.hpp"

namespace osprey::media {
namespace {

// One address and the rule classify must give it; an empty address means "none exists".
struct probe {
    std::string_view address;
    std::string_view rule;
};

// One row of the special-purpose table, written out by hand from the registries rather than
// derived from the code under test: the first and last address of the block, and its
// neighbours just outside it (refused too where they fall in another block).
struct block_case {
    std::string_view range;
    probe first;
    probe last;
    probe below;
    probe above;
};

// clang-format off
const block_case block_cases[] = {
    {"0.0.0.0/8", {"0.0.0.0", "this_network"}, {"0.255.255.255", "this_network"},
     {"", ""}, {"1.0.0.0", "public"}},
    {"0.0.0.0/32", {"0.0.0.0", "this_network"}, {"0.0.0.0", "this_network"},
     {"", ""}, {"0.0.0.1", "this_network"}},
    {"10.0.0.0/8", {"10.0.0.0", "private"}, {"10.255.255.255", "private"},
     {"9.255.255.255", "public"}, {"11.0.0.0", "public"}},
    {"100.64.0.0/10", {"100.64.0.0", "cgnat"}, {"100.127.255.255", "cgnat"},
     {"100.63.255.255", "public"}, {"100.128.0.0", "public"}},
    {"127.0.0.0/8", {"127.0.0.0", "loopback"}, {"127.255.255.255", "loopback"},
     {"126.255.255.255", "public"}, {"128.0.0.0", "public"}},
    {"169.254.0.0/16", {"169.254.0.0", "link_local"}, {"169.254.255.255", "link_local"},
     {"169.253.255.255", "public"}, {"169.255.0.0", "public"}},
    {"172.16.0.0/12", {"172.16.0.0", "private"}, {"172.31.255.255", "private"},
     {"172.15.255.255", "public"}, {"172.32.0.0", "public"}},
    {"192.0.0.0/24", {"192.0.0.0", "ietf_protocol"}, {"192.0.0.255", "ietf_protocol"},
     {"191.255.255.255", "public"}, {"192.0.1.0", "public"}},
    {"192.0.0.0/29", {"192.0.0.0", "ietf_protocol"}, {"192.0.0.7", "ietf_protocol"},
     {"191.255.255.255", "public"}, {"192.0.0.8", "ietf_protocol"}},
    {"192.0.0.8/32", {"192.0.0.8", "ietf_protocol"}, {"192.0.0.8", "ietf_protocol"},
     {"192.0.0.7", "ietf_protocol"}, {"192.0.0.9", "ietf_protocol"}},
    {"192.0.0.9/32", {"192.0.0.9", "ietf_protocol"}, {"192.0.0.9", "ietf_protocol"},
     {"192.0.0.8", "ietf_protocol"}, {"192.0.0.10", "ietf_protocol"}},
    {"192.0.0.10/32", {"192.0.0.10", "ietf_protocol"}, {"192.0.0.10", "ietf_protocol"},
     {"192.0.0.9", "ietf_protocol"}, {"192.0.0.11", "ietf_protocol"}},
    {"192.0.0.170/32", {"192.0.0.170", "ietf_protocol"}, {"192.0.0.170", "ietf_protocol"},
     {"192.0.0.169", "ietf_protocol"}, {"192.0.0.171", "ietf_protocol"}},
    {"192.0.0.171/32", {"192.0.0.171", "ietf_protocol"}, {"192.0.0.171", "ietf_protocol"},
     {"192.0.0.170", "ietf_protocol"}, {"192.0.0.172", "ietf_protocol"}},
    {"192.0.2.0/24", {"192.0.2.0", "documentation"}, {"192.0.2.255", "documentation"},
     {"192.0.1.255", "public"}, {"192.0.3.0", "public"}},
    {"192.31.196.0/24", {"192.31.196.0", "as112"}, {"192.31.196.255", "as112"},
     {"192.31.195.255", "public"}, {"192.31.197.0", "public"}},
    {"192.52.193.0/24", {"192.52.193.0", "amt"}, {"192.52.193.255", "amt"},
     {"192.52.192.255", "public"}, {"192.52.194.0", "public"}},
    {"192.88.99.0/24", {"192.88.99.0", "relay_anycast"}, {"192.88.99.255", "relay_anycast"},
     {"192.88.98.255", "public"}, {"192.88.100.0", "public"}},
    {"192.88.99.2/32", {"192.88.99.2", "relay_anycast"}, {"192.88.99.2", "relay_anycast"},
     {"192.88.99.1", "relay_anycast"}, {"192.88.99.3", "relay_anycast"}},
    {"192.168.0.0/16", {"192.168.0.0", "private"}, {"192.168.255.255", "private"},
     {"192.167.255.255", "public"}, {"192.169.0.0", "public"}},
    {"192.175.48.0/24", {"192.175.48.0", "as112"}, {"192.175.48.255", "as112"},
     {"192.175.47.255", "public"}, {"192.175.49.0", "public"}},
    {"198.18.0.0/15", {"198.18.0.0", "benchmarking"}, {"198.19.255.255", "benchmarking"},
     {"198.17.255.255", "public"}, {"198.20.0.0", "public"}},
    {"198.51.100.0/24", {"198.51.100.0", "documentation"}, {"198.51.100.255", "documentation"},
     {"198.51.99.255", "public"}, {"198.51.101.0", "public"}},
    {"203.0.113.0/24", {"203.0.113.0", "documentation"}, {"203.0.113.255", "documentation"},
     {"203.0.112.255", "public"}, {"203.0.114.0", "public"}},
    {"224.0.0.0/4", {"224.0.0.0", "multicast"}, {"239.255.255.255", "multicast"},
     {"223.255.255.255", "public"}, {"240.0.0.0", "reserved"}},
    {"240.0.0.0/4", {"240.0.0.0", "reserved"}, {"255.255.255.255", "broadcast"},
     {"239.255.255.255", "multicast"}, {"", ""}},
    {"255.255.255.255/32", {"255.255.255.255", "broadcast"}, {"255.255.255.255", "broadcast"},
     {"255.255.255.254", "reserved"}, {"", ""}},

    {"::/128", {"::", "unspecified"}, {"::", "unspecified"},
     {"", ""}, {"::1", "loopback"}},
    {"::1/128", {"::1", "loopback"}, {"::1", "loopback"},
     {"::", "unspecified"}, {"::2", "ipv4_embedded"}},
    {"::/96", {"::", "unspecified"}, {"::ffff:ffff", "ipv4_embedded"},
     {"", ""}, {"::1:0:0", "not_global_unicast"}},
    {"::ffff:0:0/96", {"::ffff:0:0", "ipv4_embedded"}, {"::ffff:ffff:ffff", "ipv4_embedded"},
     {"::fffe:ffff:ffff", "not_global_unicast"}, {"::1:0:0:0", "not_global_unicast"}},
    {"64:ff9b::/96", {"64:ff9b::", "ipv4_embedded"}, {"64:ff9b::ffff:ffff", "ipv4_embedded"},
     {"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", "not_global_unicast"},
     {"64:ff9b::1:0:0", "not_global_unicast"}},
    {"64:ff9b:1::/48", {"64:ff9b:1::", "ipv4_embedded"},
     {"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "ipv4_embedded"},
     {"64:ff9b:0:ffff:ffff:ffff:ffff:ffff", "not_global_unicast"},
     {"64:ff9b:2::", "not_global_unicast"}},
    {"100::/64", {"100::", "discard"}, {"100::ffff:ffff:ffff:ffff", "discard"},
     {"ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "not_global_unicast"},
     {"100:0:0:1::", "discard"}},
    {"100:0:0:1::/64", {"100:0:0:1::", "discard"}, {"100::1:ffff:ffff:ffff:ffff", "discard"},
     {"100::ffff:ffff:ffff:ffff", "discard"}, {"100:0:0:2::", "not_global_unicast"}},
    {"2001::/23", {"2001::", "ipv4_embedded"},
     {"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", "ietf_protocol"},
     {"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "public"}, {"2001:200::", "public"}},
    {"2001::/32", {"2001::", "ipv4_embedded"}, {"2001:0:ffff:ffff:ffff:ffff:ffff:ffff",
     "ipv4_embedded"}, {"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "public"},
     {"2001:1::", "ietf_protocol"}},
    {"2001:1::1/128", {"2001:1::1", "ietf_protocol"}, {"2001:1::1", "ietf_protocol"},
     {"2001:1::", "ietf_protocol"}, {"2001:1::2", "ietf_protocol"}},
    {"2001:1::2/128", {"2001:1::2", "ietf_protocol"}, {"2001:1::2", "ietf_protocol"},
     {"2001:1::1", "ietf_protocol"}, {"2001:1::3", "ietf_protocol"}},
    {"2001:1::3/128", {"2001:1::3", "ietf_protocol"}, {"2001:1::3", "ietf_protocol"},
     {"2001:1::2", "ietf_protocol"}, {"2001:1::4", "ietf_protocol"}},
    {"2001:2::/48", {"2001:2::", "benchmarking"},
     {"2001:2:0:ffff:ffff:ffff:ffff:ffff", "benchmarking"},
     {"2001:1:ffff:ffff:ffff:ffff:ffff:ffff", "ietf_protocol"},
     {"2001:2:1::", "ietf_protocol"}},
    {"2001:3::/32", {"2001:3::", "amt"}, {"2001:3:ffff:ffff:ffff:ffff:ffff:ffff", "amt"},
     {"2001:2:ffff:ffff:ffff:ffff:ffff:ffff", "ietf_protocol"},
     {"2001:4::", "ietf_protocol"}},
    {"2001:4:112::/48", {"2001:4:112::", "as112"},
     {"2001:4:112:ffff:ffff:ffff:ffff:ffff", "as112"},
     {"2001:4:111:ffff:ffff:ffff:ffff:ffff", "ietf_protocol"},
     {"2001:4:113::", "ietf_protocol"}},
    {"2001:10::/28", {"2001:10::", "orchid"}, {"2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", "orchid"},
     {"2001:f:ffff:ffff:ffff:ffff:ffff:ffff", "ietf_protocol"}, {"2001:20::", "orchid"}},
    {"2001:20::/28", {"2001:20::", "orchid"}, {"2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", "orchid"},
     {"2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", "orchid"}, {"2001:30::", "drone_remote_id"}},
    {"2001:30::/28", {"2001:30::", "drone_remote_id"},
     {"2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", "drone_remote_id"},
     {"2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", "orchid"}, {"2001:40::", "ietf_protocol"}},
    {"2001:db8::/32", {"2001:db8::", "documentation"},
     {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "documentation"},
     {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "public"}, {"2001:db9::", "public"}},
    {"2002::/16", {"2002::", "ipv4_embedded"},
     {"2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ipv4_embedded"},
     {"2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "public"}, {"2003::", "public"}},
    {"2620:4f:8000::/48", {"2620:4f:8000::", "as112"},
     {"2620:4f:8000:ffff:ffff:ffff:ffff:ffff", "as112"},
     {"2620:4f:7fff:ffff:ffff:ffff:ffff:ffff", "public"}, {"2620:4f:8001::", "public"}},
    {"3fff::/20", {"3fff::", "documentation"},
     {"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", "documentation"},
     {"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "public"}, {"3fff:1000::", "public"}},
    {"5f00::/16", {"5f00::", "srv6_sid"}, {"5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "srv6_sid"},
     {"5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "not_global_unicast"},
     {"5f01::", "not_global_unicast"}},
    {"fc00::/7", {"fc00::", "unique_local"},
     {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "unique_local"},
     {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "not_global_unicast"},
     {"fe00::", "not_global_unicast"}},
    {"fe80::/10", {"fe80::", "link_local"},
     {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "link_local"},
     {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "not_global_unicast"},
     {"fec0::", "site_local"}},
    {"fec0::/10", {"fec0::", "site_local"},
     {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "site_local"},
     {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "link_local"}, {"ff00::", "multicast"}},
    {"ff00::/8", {"ff00::", "multicast"}, {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "multicast"},
     {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "site_local"}, {"", ""}},
};
// clang-format on

// Names the block in a failure message instead of dumping the struct's bytes.
void PrintTo(const block_case& c, std::ostream* os) {
    *os << c.range;
}

// The address one step up or down, or nullopt past either end of the family.
std::optional<ip_address> step(ip_address a, int direction) {
    const int last = a.family == ip_family::v4 ? 3 : 15;
    const uint8_t wrap = direction > 0 ? 0xff : 0x00;
    for (int i = last; i >= 0; --i) {
        const bool carries = a.bytes[i] == wrap;
        a.bytes[i] = static_cast<uint8_t>(a.bytes[i] + direction);
        if (!carries) {
            return a;
        }
    }
    return std::nullopt;
}

void expect_verdict(const probe& p) {
    const address_verdict verdict = classify(must_parse(p.address));
    EXPECT_EQ(verdict.rule, p.rule) << p.address;
    EXPECT_EQ(verdict.allowed, p.rule == "public") << p.address;
}

class SpecialBlock : public ::testing::TestWithParam<block_case> {};

// Guards the hand-written table itself: first and last bound the block, and the neighbours
// are really the adjacent addresses, so a slip in a literal cannot hide an untested edge.
TEST_P(SpecialBlock, ProbesSitOnTheEdges) {
    const block_case& c = GetParam();
    const cidr range = cidr::parse(c.range).value();
    const ip_address first = must_parse(c.first.address);
    const ip_address last = must_parse(c.last.address);
    const std::optional<ip_address> below = step(first, -1);
    const std::optional<ip_address> above = step(last, +1);
    EXPECT_EQ(first, range.base);
    EXPECT_TRUE(range.contains(last));
    EXPECT_FALSE(above && range.contains(*above));

    EXPECT_EQ(below.has_value(), !c.below.address.empty());
    EXPECT_EQ(above.has_value(), !c.above.address.empty());
    if (below && !c.below.address.empty()) {
        EXPECT_EQ(*below, must_parse(c.below.address));
    }
    if (above && !c.above.address.empty()) {
        EXPECT_EQ(*above, must_parse(c.above.address));
    }
}

TEST_P(SpecialBlock, EdgesAndNeighboursGetTheirRule) {
    const block_case& c = GetParam();
    expect_verdict(c.first);
    expect_verdict(c.last);
    if (!c.below.address.empty()) {
        expect_verdict(c.below);
    }
    if (!c.above.address.empty()) {
        expect_verdict(c.above);
    }
}

std::string case_name(const ::testing::TestParamInfo<block_case>& info) {
    std::string name;
    for (const char ch : info.param.range) {
        name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
    }
    return name;
}

INSTANTIATE_TEST_SUITE_P(Registry, SpecialBlock, ::testing::ValuesIn(block_cases), case_name);

TEST(Classify, PassesPublicAddresses) {
    for (const std::string_view text :
         {"8.8.8.8", "1.1.1.1", "9.9.9.9", "93.184.215.14", "223.255.255.255", "1.0.0.0",
          "2606:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001::1",
          "2000::", "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}) {
        const address_verdict verdict = classify(must_parse(text));
        EXPECT_TRUE(verdict.allowed) << text;
        EXPECT_EQ(verdict.rule, "public") << text;
    }
}

// Only 2000::/3 is assigned for global unicast; the reserved space around it must not pass
// just because no special-purpose row names it.
TEST(Classify, RefusesIpv6OutsideGlobalUnicast) {
    for (const std::string_view text :
         {"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "4000::", "1000::1", "200::1",
          "8000::", "e000::1", "fe00::1", "::1:0:0:0:0", "1::"}) {
        const address_verdict verdict = classify(must_parse(text));
        EXPECT_FALSE(verdict.allowed) << text;
        EXPECT_EQ(verdict.rule, "not_global_unicast") << text;
    }
}

// A NAT64 gateway, a 6to4 or Teredo relay, or the kernel's own mapped-address handling can turn
// each of these into a connection to the embedded IPv4 address; none of them is trusted.
TEST(Classify, RefusesEveryEmbeddedIpv4Form) {
    for (const std::string_view text : {
             "::ffff:127.0.0.1",
             "::127.0.0.1",
             "64:ff9b::127.0.0.1",
             "64:ff9b:1::7f00:1",
             "64:ff9b:1:7f00:1::",
             "2002:7f00:1::",
             "2002:7f00:1::1",
             "2001:0:808:808:0:0:80ff:fffe",  // Teredo, client 127.0.0.1 (bits inverted)
             "::ffff:8.8.8.8",
             "::8.8.8.8",
             "64:ff9b::8.8.8.8",
             "64:ff9b:1::808:808",
             "2002:808:808::1",
             "2001:0:808:808::f7f7:f7f7",  // Teredo, client 8.8.8.8
             "::ffff:10.0.0.1",
             "::ffff:169.254.169.254",
             "64:ff9b::a9fe:a9fe",
         }) {
        const address_verdict verdict = classify(must_parse(text));
        EXPECT_FALSE(verdict.allowed) << text;
        EXPECT_EQ(verdict.rule, "ipv4_embedded") << text;
    }
}

TEST(Classify, RefusesCloudMetadataAddresses) {
    EXPECT_EQ(classify(must_parse("169.254.169.254")).rule, "link_local");
    EXPECT_EQ(classify(must_parse("fd00:ec2::254")).rule, "unique_local");
    EXPECT_EQ(classify(must_parse("100.100.100.200")).rule, "cgnat");
}

TEST(AddressPolicy, WithoutSettingsFollowsTheTable) {
    const address_policy policy({}, {});
    EXPECT_EQ(policy.check(must_parse("8.8.8.8")).rule, "public");
    EXPECT_TRUE(policy.check(must_parse("8.8.8.8")).allowed);
    EXPECT_EQ(policy.check(must_parse("127.0.0.1")).rule, "loopback");
    EXPECT_FALSE(policy.check(must_parse("127.0.0.1")).allowed);
}

TEST(AddressPolicy, OperatorAllowedRangesPass) {
    const address_policy policy(
        {cidr::parse("127.0.0.0/8").value(), cidr::parse("10.1.0.0/16").value(),
         cidr::parse("fd00:1234::/32").value()},
        {});
    for (const std::string_view text : {"127.0.0.1", "10.1.2.3", "fd00:1234::5"}) {
        const address_verdict verdict = policy.check(must_parse(text));
        EXPECT_TRUE(verdict.allowed) << text;
        EXPECT_EQ(verdict.rule, "operator_allowed") << text;
    }
    EXPECT_EQ(policy.check(must_parse("10.2.0.1")).rule, "private");
    EXPECT_EQ(policy.check(must_parse("fd00:1235::5")).rule, "unique_local");
}

// Allowing 127.0.0.0/8 names IPv4 loopback; it must not open the IPv6 spellings of it.
TEST(AddressPolicy, AllowedIpv4RangeDoesNotOpenItsIpv6Forms) {
    const address_policy policy({cidr::parse("127.0.0.0/8").value()}, {});
    EXPECT_EQ(policy.check(must_parse("::ffff:127.0.0.1")).rule, "ipv4_embedded");
    EXPECT_EQ(policy.check(must_parse("::1")).rule, "loopback");
}

TEST(AddressPolicy, RefusesOwnAddressesEvenWhenPublic) {
    const address_policy policy({}, {must_parse("8.8.4.4"), must_parse("2606:4700::1111")});
    for (const std::string_view text : {"8.8.4.4", "2606:4700::1111"}) {
        const address_verdict verdict = policy.check(must_parse(text));
        EXPECT_FALSE(verdict.allowed) << text;
        EXPECT_EQ(verdict.rule, "own_interface") << text;
    }
    EXPECT_EQ(policy.check(must_parse("8.8.8.8")).rule, "public");
}

TEST(AddressPolicy, OperatorAllowedWinsOverOwnAddress) {
    const address_policy policy({cidr::parse("8.8.4.0/24").value()}, {must_parse("8.8.4.4")});
    EXPECT_EQ(policy.check(must_parse("8.8.4.4")).rule, "operator_allowed");
}

// Reads the interface list only (getifaddrs opens no socket) and checks that whatever this
// machine has is refused once handed to the policy.
TEST(AddressPolicy, RefusesEveryInterfaceAddress) {
    const std::vector<ip_address> own = address_policy::interface_addresses();
    const address_policy policy({}, own);
    for (const ip_address& a : own) {
        EXPECT_FALSE(policy.check(a).allowed) << a.to_string();
    }
}

}  // namespace
}  // namespace osprey::media
