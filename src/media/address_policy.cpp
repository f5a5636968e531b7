#include "media/address_policy.hpp"

#include <ifaddrs.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "core/log.hpp"

namespace osprey::media {
namespace {

struct special_block {
    std::string_view range;
    std::string_view rule;
};

// Every block of the IANA IPv4 and IPv6 Special-Purpose Address Registries (as listed in 2025),
// plus multicast and the deprecated IPv6 blocks (IPv4-compatible, site-local) that some stacks
// still route. Where rows nest, the longest prefix names the verdict, so order does not matter
// and a sub-block may carry its own rule; every row refuses.
// "ipv4_embedded" rows are refused whatever IPv4 address they carry: a gateway or tunnel may turn
// them into a connection to 127.0.0.1 or 10.0.0.1, and no check of the embedded part is trusted.
constexpr special_block special_blocks[] = {
    {"0.0.0.0/8", "this_network"},
    {"0.0.0.0/32", "this_network"},
    {"10.0.0.0/8", "private"},
    {"100.64.0.0/10", "cgnat"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link_local"},
    {"172.16.0.0/12", "private"},
    {"192.0.0.0/24", "ietf_protocol"},
    {"192.0.0.0/29", "ietf_protocol"},    // IPv4 service continuity (DS-Lite)
    {"192.0.0.8/32", "ietf_protocol"},    // IPv4 dummy address
    {"192.0.0.9/32", "ietf_protocol"},    // Port Control Protocol anycast
    {"192.0.0.10/32", "ietf_protocol"},   // TURN anycast
    {"192.0.0.170/32", "ietf_protocol"},  // NAT64/DNS64 discovery
    {"192.0.0.171/32", "ietf_protocol"},  // NAT64/DNS64 discovery
    {"192.0.2.0/24", "documentation"},
    {"192.31.196.0/24", "as112"},
    {"192.52.193.0/24", "amt"},
    {"192.88.99.0/24", "relay_anycast"},  // deprecated 6to4 relay anycast
    {"192.88.99.2/32", "relay_anycast"},  // 6a44 relay anycast
    {"192.168.0.0/16", "private"},
    {"192.175.48.0/24", "as112"},
    {"198.18.0.0/15", "benchmarking"},
    {"198.51.100.0/24", "documentation"},
    {"203.0.113.0/24", "documentation"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved"},
    {"255.255.255.255/32", "broadcast"},

    {"::/128", "unspecified"},
    {"::1/128", "loopback"},
    {"::/96", "ipv4_embedded"},  // IPv4-compatible, deprecated
    {"::ffff:0:0/96", "ipv4_embedded"},
    {"64:ff9b::/96", "ipv4_embedded"},    // NAT64 well-known prefix
    {"64:ff9b:1::/48", "ipv4_embedded"},  // NAT64 local-use prefix
    {"100::/64", "discard"},
    {"100:0:0:1::/64", "discard"},  // dummy prefix: as unreachable as discard-only
    {"2001::/23", "ietf_protocol"},
    {"2001::/32", "ipv4_embedded"},      // Teredo
    {"2001:1::1/128", "ietf_protocol"},  // Port Control Protocol anycast
    {"2001:1::2/128", "ietf_protocol"},  // TURN anycast
    {"2001:1::3/128", "ietf_protocol"},  // DNS-SD service registration anycast
    {"2001:2::/48", "benchmarking"},
    {"2001:3::/32", "amt"},
    {"2001:4:112::/48", "as112"},
    {"2001:10::/28", "orchid"},           // deprecated ORCHID
    {"2001:20::/28", "orchid"},           // ORCHIDv2
    {"2001:30::/28", "drone_remote_id"},  // drone remote ID entity tags
    {"2001:db8::/32", "documentation"},
    {"2002::/16", "ipv4_embedded"},  // 6to4
    {"2620:4f:8000::/48", "as112"},
    {"3fff::/20", "documentation"},
    {"5f00::/16", "srv6_sid"},
    {"fc00::/7", "unique_local"},
    {"fe80::/10", "link_local"},
    {"fec0::/10", "site_local"},
    {"ff00::/8", "multicast"},
};

struct parsed_block {
    cidr range;
    std::string_view rule;
};

// A row that fails to parse is a typo in the table above. Dropping it would silently open a
// block to the fetcher, so the process stops instead; the tests run every row.
std::vector<parsed_block> parse_special_blocks() {
    std::vector<parsed_block> blocks;
    for (const special_block& row : special_blocks) {
        const std::optional<cidr> range = cidr::parse(row.range);
        if (!range) {
            std::abort();
        }
        blocks.push_back({*range, row.rule});
    }
    return blocks;
}

// Parsed on first use; a function-local static is initialised once, safely across threads.
const std::vector<parsed_block>& parsed_special_blocks() {
    static const std::vector<parsed_block> blocks = parse_special_blocks();
    return blocks;
}

const parsed_block* longest_match(const ip_address& a) {
    const parsed_block* best = nullptr;
    for (const parsed_block& block : parsed_special_blocks()) {
        if (block.range.contains(a) &&
            (best == nullptr || block.range.prefix > best->range.prefix)) {
            best = &block;
        }
    }
    return best;
}

}  // namespace

address_verdict classify(const ip_address& a) {
    if (const parsed_block* block = longest_match(a)) {
        return {false, block->rule};
    }

    // IANA assigns unicast only from 2000::/3; the rest of the IPv6 space is reserved, and an
    // address there reaches something local or nothing at all.
    static const cidr global_unicast = *cidr::parse("2000::/3");
    if (a.family == ip_family::v6 && !global_unicast.contains(a)) {
        return {false, "not_global_unicast"};
    }
    return {true, "public"};
}

address_policy::address_policy(std::vector<cidr> allowed, std::vector<ip_address> own)
    : allowed_(std::move(allowed)), own_(std::move(own)) {}

// The operator's ranges come first so an internal media store can be named even when it sits on
// this machine; otherwise the server's own addresses are refused even where they are public,
// since a request to them reaches the server's own listeners and admin endpoints.
address_verdict address_policy::check(const ip_address& a) const {
    for (const cidr& range : allowed_) {
        if (range.contains(a)) {
            return {true, "operator_allowed"};
        }
    }

    // The table first, so that the log names the most telling rule: a
    // loopback address is "loopback" even though it is also our own.
    const address_verdict verdict = classify(a);
    if (verdict.allowed && std::find(own_.begin(), own_.end(), a) != own_.end()) {
        return {false, "own_interface"};
    }
    return verdict;
}

std::vector<ip_address> address_policy::interface_addresses() {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
        // Only the server's own public addresses go unprotected then (the
        // table still refuses loopback and private ones): say so loudly.
        core::log::error(*core::log::get("media"), "media.interfaces_unknown",
                         {{"reason", std::strerror(errno)}});
        return {};
    }
    const std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> owner(list, &freeifaddrs);

    std::vector<ip_address> addresses;
    for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
        const std::optional<ip_address> a = ip_address::from_sockaddr(entry->ifa_addr);
        if (a && std::find(addresses.begin(), addresses.end(), *a) == addresses.end()) {
            addresses.push_back(*a);
        }
    }
    return addresses;
}

}  // namespace osprey::media
