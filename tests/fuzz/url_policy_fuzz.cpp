// The remote-media URL policy with the fuzz input as the URL, under the
// default rules and under rules an operator might set. Beyond not crashing,
// every URL it lets through must obey the rules it was checked against, and
// the normalised URL that libcurl will fetch must pass the same check to the
// same host and port: a URL whose rewrite names another target would be a
// way around the policy.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "media/ip_address.hpp"
#include "media/url_policy.hpp"

namespace {

using osprey::media::check_url;
using osprey::media::checked_url;
using osprey::media::ip_address;
using osprey::media::url_rules;

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_listed(const std::vector<std::string>& list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

bool in_domains(const url_rules& rules, std::string_view host) {
    return std::any_of(rules.allowed_domains.begin(), rules.allowed_domains.end(),
                       [&](const std::string& d) { return host == d || ends_with(host, "." + d); });
}

// Names the policy promises never to let through unless allowed by name.
bool is_local_name(std::string_view host) {
    constexpr std::string_view suffixes[] = {".localhost", ".local", ".internal",
                                             ".home.arpa", ".arpa",  ".test",
                                             ".invalid",   ".onion", ".example"};
    if (host == "localhost" || host.find('.') == std::string_view::npos) {
        return true;
    }
    return std::any_of(std::begin(suffixes), std::end(suffixes),
                       [&](std::string_view s) { return ends_with(host, s); });
}

void check_host(const checked_url& out, const url_rules& rules) {
    OSPREY_FUZZ_CHECK(!out.host.empty());
    for (const unsigned char c : out.host) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                             c == '-' || c == '_' || c == ':';
        OSPREY_FUZZ_CHECK(allowed);
    }
    if (!out.literal && !is_listed(rules.allowed_names, out.host)) {
        OSPREY_FUZZ_CHECK(!is_local_name(out.host));
    }
    if (!rules.allowed_domains.empty()) {
        OSPREY_FUZZ_CHECK(!out.literal && in_domains(rules, out.host));
    }
}

void check_accepted(const checked_url& out, const url_rules& rules) {
    OSPREY_FUZZ_CHECK(out.scheme == "http" || out.scheme == "https");
    OSPREY_FUZZ_CHECK(std::find(rules.allowed_ports.begin(), rules.allowed_ports.end(), out.port) !=
                      rules.allowed_ports.end());
    check_host(out, rules);

    // The log line's form of the URL holds no query, fragment or control byte.
    OSPREY_FUZZ_CHECK(out.redacted.rfind(out.scheme + "://", 0) == 0);
    OSPREY_FUZZ_CHECK(out.redacted.find_first_of("?#") == std::string::npos);
    for (const unsigned char c : out.redacted) {
        OSPREY_FUZZ_CHECK(c > 0x20 && c < 0x7f);
    }

    if (out.url.size() > osprey::media::max_url_bytes) {
        return;  // libcurl's escaping made it longer than the policy reads
    }
    const auto again = check_url(out.url, rules);
    OSPREY_FUZZ_CHECK(again.has_value());
    OSPREY_FUZZ_CHECK(again->scheme == out.scheme && again->host == out.host);
    OSPREY_FUZZ_CHECK(again->port == out.port && again->literal == out.literal);
}

// A refusal is the one generic public error; its log detail holds no byte
// that could forge a log line and stays short whatever the URL's length.
void check_refused(const osprey::core::error& e) {
    OSPREY_FUZZ_CHECK(e.code == osprey::core::error_code::media_unavailable);
    OSPREY_FUZZ_CHECK(e.public_message == osprey::media::media_public_message);
    OSPREY_FUZZ_CHECK(e.internal_detail.rfind("rule=", 0) == 0);
    OSPREY_FUZZ_CHECK(e.internal_detail.size() < 512);
    for (const unsigned char c : e.internal_detail) {
        OSPREY_FUZZ_CHECK(c >= 0x20 && c < 0x7f);
    }
}

void check_under(std::string_view url, const url_rules& rules) {
    const auto outcome = check_url(url, rules);
    if (outcome) {
        check_accepted(*outcome, rules);
    } else {
        check_refused(outcome.error());
    }
}

// The strict address parser that the policy leans on: what it accepts
// prints back to text that parses to the same address.
void check_address(std::string_view text) {
    const auto address = ip_address::parse(text);
    if (address) {
        OSPREY_FUZZ_CHECK(ip_address::parse(address->to_string()) == address);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view url(reinterpret_cast<const char*>(data), size);

    static const url_rules defaults;
    static const url_rules named = {.allowed_ports = {80, 443, 8080, 11434},
                                    .allowed_domains = {},
                                    .allowed_names = {"media-cache", "images.internal"}};
    static const url_rules domains = {.allowed_ports = {443},
                                      .allowed_domains = {"example.com", "cdn.example.org"},
                                      .allowed_names = {}};
    check_under(url, defaults);
    check_under(url, named);
    check_under(url, domains);
    check_address(url);
    return 0;
}
