#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "media/address_policy.hpp"
#include "media/resolver.hpp"
#include "media/url_policy.hpp"

namespace osprey::media {

struct fetch_options {
    url_rules urls;
    std::size_t max_bytes = 20u << 20;
    std::size_t max_header_bytes = 64u << 10;
    std::chrono::milliseconds timeout{10'000};  // the whole fetch, redirects included
    std::chrono::milliseconds connect_timeout{3'000};
    long min_speed_bytes = 1024;  // per second, over min_speed_time
    std::chrono::seconds min_speed_time{5};
    int max_redirects = 5;
    std::string proxy;    // empty: connect directly; proxy variables are ignored either way
    std::string ca_file;  // an extra CA bundle, trusted beside the system's
};

// Fetches remote media for untrusted clients without ever reaching a
// non-public address. Each hop: the URL policy, one lookup, every answer
// through the address policy (one refused answer refuses the name), a
// connection pinned to exactly those addresses and checked again as the
// socket opens, and redirects followed by hand through the same steps.
//
// Thread-safe; `fetch` blocks, and runs on the media gate's workers.
class fetcher {
public:
    fetcher(fetch_options options, const address_policy& policy, resolver& names);

    // The body, at most max_bytes. Errors: media_unavailable with the one
    // generic public message; the detail (rule, host, addresses, curl's
    // reason) is for the log, which this call writes under `request_id`.
    core::expected<std::string> fetch(std::string_view url, std::string_view request_id) const;

    const fetch_options& options() const { return options_; }

private:
    struct hop_result;
    core::expected<std::string> follow(std::string url) const;
    core::expected<hop_result> fetch_hop(const checked_url& url,
                                         std::chrono::steady_clock::time_point deadline) const;
    core::expected<std::vector<ip_address>> checked_addresses(const checked_url& url) const;
    bool operator_allowed(const std::string& host) const;
    void configure(void* curl, const checked_url& url, void* state, void* pins,
                   std::chrono::milliseconds remaining) const;

    fetch_options options_;
    const address_policy& policy_;
    resolver& names_;
    std::vector<ip_address> proxy_addresses_;
};

}  // namespace osprey::media
