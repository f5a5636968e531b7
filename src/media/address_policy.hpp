#pragma once

#include <string_view>
#include <vector>

#include "media/ip_address.hpp"

namespace osprey::media {

// Whether the media fetcher may connect to an address, and which rule said
// so. `rule` names a row of the table ("loopback", "private", "link_local",
// "ipv4_embedded", "own_interface", "operator_allowed", "public", ...); it is
// for the server log only, never for the client.
struct address_verdict {
    bool allowed = false;
    std::string_view rule;
};

// The special-purpose table alone: every block of the IANA IPv4 and IPv6
// Special-Purpose Address Registries, plus multicast, is refused. For IPv6,
// only global unicast (2000::/3 less its special blocks) passes, and every
// form that embeds an IPv4 address (mapped, compatible, NAT64 well-known and
// local-use, 6to4, Teredo) is refused whatever it embeds.
address_verdict classify(const ip_address& a);

// The table plus the operator's settings and the server's own addresses.
// Immutable after construction; safe to share between threads.
class address_policy {
public:
    // `allowed` ranges pass even though the table refuses them (an internal
    // media store named by --media-allow-hosts); `own` addresses (the
    // server's interfaces) are refused even when the table would pass them.
    address_policy(std::vector<cidr> allowed, std::vector<ip_address> own);

    address_verdict check(const ip_address& a) const;

    // The addresses of this machine's network interfaces (getifaddrs).
    static std::vector<ip_address> interface_addresses();

private:
    std::vector<cidr> allowed_;
    std::vector<ip_address> own_;
};

}  // namespace osprey::media
