#include "media/ip_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace osprey::media {
namespace {

// "255.255.255.255" and "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255": longer text cannot be
// an address in the forms we accept, so it is refused before any copy is made.
constexpr std::size_t max_v4_text = 15;
constexpr std::size_t max_v6_text = 45;

int bit_count(ip_family f) {
    return f == ip_family::v4 ? 32 : 128;
}

bool is_decimal(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// A decimal number of 1 to 3 digits without a leading zero, at most `max`. The leading zero is
// refused because inet_aton, browsers and many URL parsers read "010" as octal 8: the text we
// check must mean the same thing to every parser that sees it after us.
std::optional<int> parse_small_decimal(std::string_view s, int max) {
    if (!is_decimal(s) || s.size() > 3 || (s.size() > 1 && s.front() == '0')) {
        return std::nullopt;
    }

    int value = 0;
    std::from_chars(s.data(), s.data() + s.size(), value);
    if (value > max) {
        return std::nullopt;
    }
    return value;
}

// Exactly four strict decimal octets: refuses "127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1".
bool is_strict_dotted_quad(std::string_view s) {
    int octets = 0;
    while (true) {
        const std::size_t dot = s.find('.');
        if (!parse_small_decimal(s.substr(0, dot), 255)) {
            return false;
        }
        ++octets;
        if (dot == std::string_view::npos) {
            break;
        }
        s.remove_prefix(dot + 1);
    }
    return octets == 4;
}

// inet_pton wants a NUL-terminated string; the shape checks before it have already refused any
// NUL inside `text`, so the copy cannot end early and hide a suffix.
std::optional<ip_address> convert(std::string_view text, ip_family f) {
    const std::string terminated(text);
    ip_address a;
    a.family = f;
    const int af = f == ip_family::v4 ? AF_INET : AF_INET6;
    if (inet_pton(af, terminated.c_str(), a.bytes.data()) != 1) {
        return std::nullopt;
    }
    return a;
}

std::optional<ip_address> parse_v4(std::string_view text) {
    if (text.size() > max_v4_text || !is_strict_dotted_quad(text)) {
        return std::nullopt;
    }
    return convert(text, ip_family::v4);
}

// Only hex digits, colons and the dots of a trailing dotted quad: this refuses brackets, zone
// ids ("%eth0"), whitespace and NUL before inet_pton sees the text. The trailing quad gets the
// same leading-zero check as a bare IPv4 address.
std::optional<ip_address> parse_v6(std::string_view text) {
    if (text.size() > max_v6_text ||
        text.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) {
        return std::nullopt;
    }

    const std::string_view tail = text.substr(text.rfind(':') + 1);
    if (tail.find('.') != std::string_view::npos && !is_strict_dotted_quad(tail)) {
        return std::nullopt;
    }
    return convert(text, ip_family::v6);
}

// The bits of byte `index` that fall inside a prefix of `prefix` bits.
uint8_t prefix_mask(int prefix, int index) {
    const int bits = std::clamp(prefix - index * 8, 0, 8);
    return static_cast<uint8_t>(0xff00 >> bits);
}

}  // namespace

ip_address ip_address::v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    ip_address address;
    address.bytes[0] = a;
    address.bytes[1] = b;
    address.bytes[2] = c;
    address.bytes[3] = d;
    return address;
}

std::optional<ip_address> ip_address::parse(std::string_view text) {
    if (text.find(':') != std::string_view::npos) {
        return parse_v6(text);
    }
    return parse_v4(text);
}

// The caller vouches that `sa` points at storage as large as its family's sockaddr; memcpy into
// a local of the right type keeps us clear of alignment and aliasing trouble.
std::optional<ip_address> ip_address::from_sockaddr(const sockaddr* sa) {
    if (sa == nullptr) {
        return std::nullopt;
    }

    ip_address address;
    if (sa->sa_family == AF_INET) {
        sockaddr_in in{};
        std::memcpy(&in, sa, sizeof in);
        std::memcpy(address.bytes.data(), &in.sin_addr, sizeof in.sin_addr);
        return address;
    }
    if (sa->sa_family == AF_INET6) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, sa, sizeof in6);
        address.family = ip_family::v6;
        std::memcpy(address.bytes.data(), &in6.sin6_addr, sizeof in6.sin6_addr);
        return address;
    }
    return std::nullopt;
}

// glibc's inet_ntop already follows RFC 5952: lower case, the longest run of zero groups
// compressed (the first one on a tie), never a single zero group.
std::string ip_address::to_string() const {
    char buffer[INET6_ADDRSTRLEN] = {};
    const int af = family == ip_family::v4 ? AF_INET : AF_INET6;
    if (inet_ntop(af, bytes.data(), buffer, sizeof buffer) == nullptr) {
        return {};
    }
    return buffer;
}

std::optional<cidr> cidr::parse(std::string_view text) {
    const std::size_t slash = text.find('/');
    const std::optional<ip_address> address = ip_address::parse(text.substr(0, slash));
    if (!address) {
        return std::nullopt;
    }

    const int max_prefix = bit_count(address->family);
    int prefix = max_prefix;
    if (slash != std::string_view::npos) {
        const std::optional<int> parsed = parse_small_decimal(text.substr(slash + 1), max_prefix);
        if (!parsed) {
            return std::nullopt;
        }
        prefix = *parsed;
    }

    cidr range{*address, prefix};
    for (int i = 0; i < 16; ++i) {
        range.base.bytes[i] &= prefix_mask(prefix, i);
    }
    return range;
}

// Masks both sides, so a cidr built by hand with host bits set still compares correctly.
bool cidr::contains(const ip_address& a) const {
    if (a.family != base.family) {
        return false;
    }

    for (int i = 0; i < 16; ++i) {
        const uint8_t mask = prefix_mask(prefix, i);
        if ((a.bytes[i] & mask) != (base.bytes[i] & mask)) {
            return false;
        }
    }
    return true;
}

}  // namespace osprey::media
