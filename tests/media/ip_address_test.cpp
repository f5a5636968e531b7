#include "media/ip_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "parse_helpers.hpp"

namespace osprey::media {
namespace {

TEST(IpAddressParse, AcceptsPlainDottedQuad) {
    EXPECT_EQ(must_parse("127.0.0.1"), ip_address::v4(127, 0, 0, 1));
    EXPECT_EQ(must_parse("0.0.0.0"), ip_address::v4(0, 0, 0, 0));
    EXPECT_EQ(must_parse("255.255.255.255"), ip_address::v4(255, 255, 255, 255));
    EXPECT_EQ(must_parse("10.20.30.40"), ip_address::v4(10, 20, 30, 40));
}

// Each of these reaches 127.0.0.1 through inet_aton or a lenient URL parser; the fetcher must
// not accept a spelling that another layer would read differently.
TEST(IpAddressParse, RefusesEveryNonCanonicalIpv4Form) {
    for (const std::string_view text :
         {"0177.0.0.1",  "127.1",      "127.0.1",    "2130706433", "0x7f.0.0.1", "0x7f000001",
          "127.000.0.1", "127.0.0.01", "127.00.0.1", "00.0.0.0",   " 127.0.0.1", "127.0.0.1 ",
          "127.0.0.1.",  ".127.0.0.1", "127..0.1",   "256.0.0.1",  "1.2.3.4.5",  "+1.2.3.4",
          "-1.2.3.4",    "1.2.3.1000", "",           ".",          "127.0.0.1/8"}) {
        EXPECT_FALSE(ip_address::parse(text).has_value()) << '"' << text << '"';
    }
}

TEST(IpAddressParse, RefusesEmbeddedNul) {
    const std::string text("127.0.0.1\0.5", 12);
    EXPECT_FALSE(ip_address::parse(text).has_value());
    const std::string v6("::1\0:2", 6);
    EXPECT_FALSE(ip_address::parse(v6).has_value());
}

TEST(IpAddressParse, AcceptsIpv6TextForms) {
    const ip_address loopback = must_parse("::1");
    EXPECT_EQ(loopback.family, ip_family::v6);
    EXPECT_EQ(loopback.bytes[15], 1);
    EXPECT_EQ(must_parse("0:0:0:0:0:0:0:1"), loopback);
    EXPECT_EQ(must_parse("2001:DB8::1"), must_parse("2001:db8::1"));
    EXPECT_EQ(must_parse("2001:0db8:0000::0001"), must_parse("2001:db8::1"));
    EXPECT_EQ(must_parse("1:2:3:4:5:6:7:8").bytes[14], 0);
    EXPECT_EQ(must_parse("1:2:3:4:5:6:7:8").bytes[15], 8);
}

TEST(IpAddressParse, AcceptsMappedAddressAsIpv6) {
    const ip_address a = must_parse("::ffff:127.0.0.1");
    EXPECT_EQ(a.family, ip_family::v6);
    EXPECT_EQ(a.bytes[10], 0xff);
    EXPECT_EQ(a.bytes[11], 0xff);
    EXPECT_EQ(a.bytes[12], 127);
    EXPECT_EQ(a.bytes[15], 1);
    EXPECT_NE(a, ip_address::v4(127, 0, 0, 1));
}

TEST(IpAddressParse, RefusesIpv6Decorations) {
    for (const std::string_view text :
         {"[::1]", "fe80::1%eth0", "fe80::1%1", "::1/128", " ::1", "::1 ", "::ffff:127.000.0.1",
          "::ffff:0177.0.0.1", "::ffff:127.1", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "::g",
          ":::", "1:2:3:4:5:6:7:8:1.2.3.4", "::ffff:7f00:1.", "http://[::1]/",
          "0000:0000:0000:0000:0000:0000:0000:00001"}) {
        EXPECT_FALSE(ip_address::parse(text).has_value()) << '"' << text << '"';
    }
}

TEST(IpAddressToString, WritesDottedQuadAndRfc5952) {
    EXPECT_EQ(ip_address::v4(192, 0, 2, 1).to_string(), "192.0.2.1");
    EXPECT_EQ(must_parse("2001:0DB8:0:0:0:0:0:1").to_string(), "2001:db8::1");
    EXPECT_EQ(must_parse("2001:db8:0:1:0:0:0:1").to_string(), "2001:db8:0:1::1");
    EXPECT_EQ(must_parse("2001:db8:0:1:1:1:1:1").to_string(), "2001:db8:0:1:1:1:1:1");
    EXPECT_EQ(must_parse("1:0:0:1:0:0:0:1").to_string(), "1:0:0:1::1");
    EXPECT_EQ(must_parse("1:0:0:1:1:0:0:1").to_string(), "1::1:1:0:0:1");
    EXPECT_EQ(must_parse("::").to_string(), "::");
    EXPECT_EQ(must_parse("::ffff:7f00:1").to_string(), "::ffff:127.0.0.1");
}

TEST(IpAddressFromSockaddr, ReadsIpv4) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(443);
    in.sin_addr.s_addr = htonl(0xc0000201);  // 192.0.2.1
    const auto a = ip_address::from_sockaddr(reinterpret_cast<const sockaddr*>(&in));
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(*a, ip_address::v4(192, 0, 2, 1));
}

TEST(IpAddressFromSockaddr, ReadsIpv6) {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_scope_id = 2;
    const ip_address expected = must_parse("fe80::1");
    std::copy(expected.bytes.begin(), expected.bytes.end(), in6.sin6_addr.s6_addr);
    const auto a = ip_address::from_sockaddr(reinterpret_cast<const sockaddr*>(&in6));
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(*a, expected);
}

TEST(IpAddressFromSockaddr, RefusesOtherFamiliesAndNull) {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    EXPECT_FALSE(ip_address::from_sockaddr(reinterpret_cast<const sockaddr*>(&un)).has_value());
    EXPECT_FALSE(ip_address::from_sockaddr(nullptr).has_value());
}

TEST(CidrParse, ReadsRangesAndBareAddresses) {
    const auto v4 = cidr::parse("10.0.0.0/8");
    ASSERT_TRUE(v4.has_value());
    EXPECT_EQ(v4->base, ip_address::v4(10, 0, 0, 0));
    EXPECT_EQ(v4->prefix, 8);

    const auto bare4 = cidr::parse("192.0.2.7");
    ASSERT_TRUE(bare4.has_value());
    EXPECT_EQ(bare4->prefix, 32);

    const auto bare6 = cidr::parse("::1");
    ASSERT_TRUE(bare6.has_value());
    EXPECT_EQ(bare6->prefix, 128);

    const auto all = cidr::parse("::/0");
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(all->prefix, 0);
}

TEST(CidrParse, ClearsBitsPastThePrefix) {
    const auto v4 = cidr::parse("10.1.2.3/9");
    ASSERT_TRUE(v4.has_value());
    EXPECT_EQ(v4->base, ip_address::v4(10, 0, 0, 0));

    const auto v6 = cidr::parse("fe80::1/10");
    ASSERT_TRUE(v6.has_value());
    EXPECT_EQ(v6->base, must_parse("fe80::"));

    const auto odd = cidr::parse("fdff:ffff::/7");
    ASSERT_TRUE(odd.has_value());
    EXPECT_EQ(odd->base, must_parse("fc00::"));
}

TEST(CidrParse, RefusesMalformedRanges) {
    for (const std::string_view text :
         {"10.0.0.0/33", "1.2.3/8", "::1/129", "10.0.0.1%eth0", "10.0.0.0/", "10.0.0.0/-1",
          "10.0.0.0/+8", "10.0.0.0/08", "10.0.0.0/8/8", "10.0.0.0/ 8", "10.0.0.0 /8", "/8",
          "10.0.0.0/0x8", "fe80::/10%eth0", "fe80::%eth0/10", "[::1]/128", "::/1280",
          "0177.0.0.0/8", ""}) {
        EXPECT_FALSE(cidr::parse(text).has_value()) << '"' << text << '"';
    }
}

TEST(CidrContains, ChecksPrefixBitsOnly) {
    const cidr range = cidr::parse("172.16.0.0/12").value();
    EXPECT_TRUE(range.contains(ip_address::v4(172, 16, 0, 0)));
    EXPECT_TRUE(range.contains(ip_address::v4(172, 31, 255, 255)));
    EXPECT_FALSE(range.contains(ip_address::v4(172, 15, 255, 255)));
    EXPECT_FALSE(range.contains(ip_address::v4(172, 32, 0, 0)));

    const cidr v6 = cidr::parse("2001:db8::/32").value();
    EXPECT_TRUE(v6.contains(must_parse("2001:db8:ffff::1")));
    EXPECT_FALSE(v6.contains(must_parse("2001:db9::")));
}

TEST(CidrContains, ZeroPrefixHoldsItsWholeFamilyOnly) {
    const cidr v4_all = cidr::parse("0.0.0.0/0").value();
    EXPECT_TRUE(v4_all.contains(ip_address::v4(255, 255, 255, 255)));
    EXPECT_FALSE(v4_all.contains(must_parse("::")));

    const cidr v6_all = cidr::parse("::/0").value();
    EXPECT_TRUE(v6_all.contains(must_parse("ffff::1")));
    EXPECT_FALSE(v6_all.contains(ip_address::v4(0, 0, 0, 0)));
}

// An IPv4 rule must not be satisfied, or dodged, by writing the same address in IPv6 form.
TEST(CidrContains, NeverMatchesAcrossFamilies) {
    const cidr loopback = cidr::parse("127.0.0.0/8").value();
    EXPECT_FALSE(loopback.contains(must_parse("::ffff:127.0.0.1")));
    EXPECT_FALSE(loopback.contains(must_parse("::127.0.0.1")));

    const cidr mapped = cidr::parse("::ffff:0:0/96").value();
    EXPECT_FALSE(mapped.contains(ip_address::v4(127, 0, 0, 1)));
}

TEST(CidrContains, MasksAHandBuiltBase) {
    const cidr range{ip_address::v4(10, 9, 9, 9), 8};
    EXPECT_TRUE(range.contains(ip_address::v4(10, 0, 0, 1)));
    EXPECT_FALSE(range.contains(ip_address::v4(11, 9, 9, 9)));
}

}  // namespace
}  // namespace osprey::media
