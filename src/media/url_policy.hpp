#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "media/ip_address.hpp"

namespace osprey::media {

inline constexpr std::size_t max_url_bytes = 8192;

struct url_rules {
    std::vector<uint16_t> allowed_ports = {80, 443};
    // When not empty, only these domains and their subdomains may be named
    // (lowercase, no trailing dot). Literal addresses never match a domain.
    std::vector<std::string> allowed_domains;
    // Host names (lowercase) that skip the local-name rules below because the
    // operator allowed them by name (--media-allow-hosts).
    std::vector<std::string> allowed_names;
};

// A URL that passed the policy, split as libcurl's own parser (CURLU) split
// it, so that what was checked is what will be fetched.
struct checked_url {
    std::string scheme;                 // "http" or "https"
    std::string host;                   // lowercase, one trailing dot stripped, no brackets
    std::optional<ip_address> literal;  // set when the host is an IP literal
    uint16_t port = 0;                  // explicit, or the scheme's default
    std::string url;                    // normalised, as handed to libcurl
    std::string redacted;               // scheme://host:port/path, for logs: no query, no userinfo
};

// Checks a remote media URL before any lookup: http or https only; no
// userinfo, backslash, control character, '%' or non-ASCII byte in the
// host, no IPv6 zone id, no empty label, a port in `rules.allowed_ports`, at
// most 8 KiB; a numeric IPv4 host only as a plain dotted quad (every other
// numeric spelling is refused, not normalised); names refused when they can
// only be local (localhost, *.localhost, *.local, *.internal, *.home.arpa,
// *.arpa, *.test, *.invalid, *.onion, *.example, single labels).
//
// Errors: media_unavailable with the generic public message, and the rule
// that refused the URL in `internal_detail` ("rule=userinfo ...").
core::expected<checked_url> check_url(std::string_view url, const url_rules& rules);

// The one public message of every remote-media failure, whatever its cause,
// so that the API cannot be used to map the server's network.
inline constexpr const char* media_public_message =
    "The media could not be fetched from the given URL.";

// A media_unavailable error with that message for the client and `detail`
// ("rule=... host=...") for the log alone.
core::error media_refusal(std::string detail);

}  // namespace osprey::media
