#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace osprey::media {

enum class ip_family { v4, v6 };

// An IPv4 or IPv6 address as bytes in network order. IPv4 uses the first 4.
struct ip_address {
    ip_family family = ip_family::v4;
    std::array<uint8_t, 16> bytes{};

    static ip_address v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);

    // Strict parsing: IPv4 only as a plain dotted quad of decimal octets
    // without leading zeros ("127.0.0.1", never "0177.1" or "2130706433");
    // IPv6 in RFC 4291 text form without brackets or a zone id. Nothing else.
    static std::optional<ip_address> parse(std::string_view text);

    // From a sockaddr_in or sockaddr_in6; nullopt for any other family.
    static std::optional<ip_address> from_sockaddr(const sockaddr* sa);

    // Dotted quad, or RFC 5952 compressed IPv6.
    std::string to_string() const;

    bool operator==(const ip_address&) const = default;
};

// An address range: "10.0.0.0/8", "fd00::/8"; a bare address is a /32 or /128.
struct cidr {
    ip_address base;  // with the bits past the prefix cleared
    int prefix = 0;

    // Errors: nullopt for a malformed address or a prefix out of range.
    static std::optional<cidr> parse(std::string_view text);

    // False across families: an IPv4 range never holds an IPv6 address,
    // whatever IPv4 address the IPv6 one may embed.
    bool contains(const ip_address& a) const;
};

}  // namespace osprey::media
