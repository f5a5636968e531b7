#include "media/url_policy.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>
#include <utility>

#include <curl/curl.h>

namespace osprey::media {

namespace {

// A refusal inside this file is just the name of the rule that refused;
// check_url turns it into the one public error at the end.
template <typename T>
using verdict = tl::expected<T, std::string_view>;

using refusal = tl::unexpected<std::string_view>;

// The URL as this file reads it from the raw text, before libcurl sees it.
// Every view points into the caller's string.
struct raw_url {
    std::string_view scheme;
    std::string_view authority;
    std::string_view host;  // brackets removed for IPv6
    bool bracketed = false;
    bool has_port = false;
    std::string_view port;
};

// The same URL as libcurl split it. The handle is kept so that the fetch URL
// is rebuilt by the same parser that checked it.
struct curl_url_deleter {
    void operator()(CURLU* h) const { curl_url_cleanup(h); }
};
using curl_url_ptr = std::unique_ptr<CURLU, curl_url_deleter>;

struct curl_view {
    curl_url_ptr handle;
    std::string scheme;
    std::string host;
    std::string path;
    uint16_t port = 0;
};

// Names that can only be local or are reserved for documentation and
// testing (RFC 6761, RFC 6762, RFC 8375, RFC 7686, ICANN's .internal).
// A public name never ends this way, so refusing before the lookup costs
// nothing and keeps a hostile or split-horizon resolver out of the picture.
constexpr std::array<std::string_view, 9> local_suffixes = {
    ".localhost", ".local",   ".internal", ".home.arpa", ".arpa",
    ".test",      ".invalid", ".onion",    ".example",
};

constexpr std::size_t max_host_bytes = 253;
constexpr std::size_t max_label_bytes = 63;
constexpr std::size_t max_logged_authority = 255;

char to_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), to_lower);
    return out;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_hex_digit(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_name_char(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_' || c == '.';
}

bool is_printable_ascii(char c) {
    return c > ' ' && c < 0x7f;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// What the log may see of a URL that was refused before it could be split
// safely: the scheme and the host and port as written, never the path, the
// query or anything that might be userinfo. Control bytes are withheld too,
// since the text is the client's and must not forge a log line.
std::string safe_prefix(std::string_view url) {
    const std::size_t colon = url.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 16) {
        return "<unparsed>";
    }
    const std::string_view scheme = url.substr(0, colon);
    const bool scheme_ok = std::all_of(scheme.begin(), scheme.end(),
                                       [](char c) { return is_name_char(c) || c == '+'; });
    if (!scheme_ok) {
        return "<unparsed>";
    }

    std::string out = lowercase(scheme) + ":";
    const std::string_view rest = url.substr(colon + 1);
    if (rest.substr(0, 2) != "//") {
        return out;
    }
    out += "//";

    const std::string_view authority = rest.substr(2, rest.find_first_of("/?#", 2) - 2);
    const bool authority_ok = authority.find_first_of("@\\") == std::string_view::npos &&
                              std::all_of(authority.begin(), authority.end(), is_printable_ascii);
    if (!authority_ok) {
        return out + "<withheld>";
    }
    if (authority.size() > max_logged_authority) {
        return out + std::string(authority.substr(0, max_logged_authority)) + "...";
    }
    return out + std::string(authority);
}

core::error make_refusal(std::string_view rule, std::string_view logged_url) {
    return media_refusal("rule=" + std::string(rule) + " url=" + std::string(logged_url));
}

// Bytes that no URL we fetch needs anywhere, and that parsers disagree on:
// a backslash is a path separator to a browser and userinfo to libcurl;
// whitespace and control bytes are trimmed or kept depending on the parser;
// non-ASCII hosts would need IDNA, which is another parser to disagree with.
std::string_view check_bytes(std::string_view url) {
    if (url.size() > max_url_bytes) {
        return "too_long";
    }
    for (const char c : url) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x80) {
            return "non_ascii";
        }
        if (byte < 0x20 || byte == 0x7f) {
            return "control_char";
        }
        if (c == ' ') {
            return "space";
        }
        if (c == '\\') {
            return "backslash";
        }
    }
    return {};
}

// The scheme, and exactly two slashes after it: libcurl also accepts one or
// three ("http:/host", "http:///host") and quietly repairs them, which is
// the kind of guessing a security check must not rely on.
verdict<std::string_view> split_scheme(std::string_view url, std::string_view& rest) {
    const std::size_t colon = url.find(':');
    if (colon == std::string_view::npos) {
        return refusal("scheme");
    }
    const std::string_view scheme = url.substr(0, colon);
    const std::string lower = lowercase(scheme);
    if (lower != "http" && lower != "https") {
        return refusal("scheme");
    }

    rest = url.substr(colon + 1);
    if (rest.substr(0, 2) != "//" || rest.substr(2, 1) == "/") {
        return refusal("slashes");
    }
    rest.remove_prefix(2);
    return scheme;
}

// Host and port out of an authority that is known to hold no userinfo.
verdict<raw_url> split_host_port(raw_url raw) {
    std::string_view a = raw.authority;
    std::size_t host_end = 0;
    if (!a.empty() && a.front() == '[') {
        const std::size_t close = a.find(']');
        if (close == std::string_view::npos) {
            return refusal("ipv6_literal");
        }
        raw.bracketed = true;
        raw.host = a.substr(1, close - 1);
        host_end = close + 1;
        if (host_end < a.size() && a[host_end] != ':') {
            return refusal("ipv6_literal");
        }
    } else {
        host_end = std::min(a.find(':'), a.size());
        raw.host = a.substr(0, host_end);
    }

    if (host_end < a.size()) {
        raw.has_port = true;
        raw.port = a.substr(host_end + 1);
    }
    return raw;
}

verdict<raw_url> split_raw(std::string_view url) {
    raw_url raw;
    std::string_view rest;
    auto scheme = split_scheme(url, rest);
    if (!scheme) {
        return refusal(scheme.error());
    }
    raw.scheme = *scheme;

    raw.authority = rest.substr(0, rest.find_first_of("/?#"));
    // Any '@' before the path starts userinfo for some parser. Refusing it
    // outright ends "good.com@evil.com" tricks and keeps credentials out of
    // the fetch and out of the log.
    if (raw.authority.find('@') != std::string_view::npos) {
        return refusal("userinfo");
    }
    return split_host_port(raw);
}

// A port as written: decimal digits only, no sign, no leading zero, 1-65535.
// An empty port ("host:/") is refused rather than read as the default, since
// libcurl reads it as no port at all.
verdict<uint16_t> check_port(const raw_url& raw, std::string_view scheme) {
    if (!raw.has_port) {
        return static_cast<uint16_t>(scheme == "https" ? 443 : 80);
    }
    const std::string_view text = raw.port;
    const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
    if (!digits || text.size() > 5 || text.front() == '0') {
        return refusal("port");
    }
    unsigned value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    if (value == 0 || value > 65535) {
        return refusal("port");
    }
    return static_cast<uint16_t>(value);
}

// A label that a numeric parser (inet_aton, WHATWG, libcurl) would read as a
// number: decimal digits, or 0x followed by hex digits (possibly none).
bool is_numeric_label(std::string_view label) {
    if (label.size() >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
        return std::all_of(label.begin() + 2, label.end(), is_hex_digit);
    }
    return !label.empty() && std::all_of(label.begin(), label.end(), is_digit);
}

// The syntax of a host that is not in brackets. Returns the name lowercased
// with one trailing dot removed; a second trailing dot leaves an empty label
// and is refused.
verdict<std::string> check_name_syntax(std::string_view host) {
    if (host.empty()) {
        return refusal("host_empty");
    }
    if (host.find('%') != std::string_view::npos) {
        return refusal("host_percent");
    }
    if (!std::all_of(host.begin(), host.end(), is_name_char)) {
        return refusal("host_chars");
    }

    std::string name = lowercase(host);
    if (name.back() == '.') {
        name.pop_back();
    }
    if (name.empty() || name.size() > max_host_bytes) {
        return refusal(name.empty() ? "empty_label" : "host_length");
    }

    std::size_t start = 0;
    while (start <= name.size()) {
        const std::size_t dot = std::min(name.find('.', start), name.size());
        if (dot == start) {
            return refusal("empty_label");
        }
        if (dot - start > max_label_bytes) {
            return refusal("host_length");
        }
        start = dot + 1;
    }
    return name;
}

// Whether the host's last label is numeric, so that some resolver somewhere
// would treat the whole host as an IPv4 address rather than a name.
bool looks_numeric(std::string_view name) {
    const std::size_t dot = name.rfind('.');
    return is_numeric_label(dot == std::string_view::npos ? name : name.substr(dot + 1));
}

bool is_allowed_name(std::string_view name, const url_rules& rules) {
    return std::find(rules.allowed_names.begin(), rules.allowed_names.end(), name) !=
           rules.allowed_names.end();
}

// Names that resolve, if at all, to something on the local network.
std::string_view check_local_name(std::string_view name, const url_rules& rules) {
    if (is_allowed_name(name, rules)) {
        return {};
    }
    if (name == "localhost") {
        return "local_name";
    }
    for (const std::string_view suffix : local_suffixes) {
        if (ends_with(name, suffix)) {
            return "local_name";
        }
    }
    // A single label is completed by the resolver's search list, which is
    // where intranet names live.
    if (name.find('.') == std::string_view::npos) {
        return "single_label";
    }
    return {};
}

// A domain matches itself and its subdomains, on a label boundary only, so
// that "evil-example.com" never passes for "example.com".
bool in_allowed_domains(std::string_view name, const url_rules& rules) {
    for (const std::string& domain : rules.allowed_domains) {
        if (name == domain) {
            return true;
        }
        if (name.size() > domain.size() && ends_with(name, domain) &&
            name[name.size() - domain.size() - 1] == '.') {
            return true;
        }
    }
    return false;
}

std::optional<std::string> get_part(CURLU* h, CURLUPart part, unsigned flags = 0) {
    char* value = nullptr;
    if (curl_url_get(h, part, &value, flags) != CURLUE_OK || value == nullptr) {
        return std::nullopt;
    }
    std::string out(value);
    curl_free(value);
    return out;
}

// libcurl's reading of the URL. The flags leave out everything that makes
// it guess or repair: no CURLU_GUESS_SCHEME or CURLU_DEFAULT_SCHEME, no
// CURLU_NON_SUPPORT_SCHEME, no CURLU_ALLOW_SPACE, no CURLU_URLDECODE on the
// parts compared with the raw text. Userinfo is refused by the parser too,
// in case the raw checks ever miss a spelling of it.
verdict<curl_view> parse_with_curl(const std::string& url) {
    curl_view view;
    view.handle.reset(curl_url());
    if (!view.handle) {
        return refusal("parser_unavailable");
    }
    if (curl_url_set(view.handle.get(), CURLUPART_URL, url.c_str(), CURLU_DISALLOW_USER) !=
        CURLUE_OK) {
        return refusal("malformed");
    }

    CURLU* h = view.handle.get();
    if (get_part(h, CURLUPART_USER) || get_part(h, CURLUPART_PASSWORD) ||
        get_part(h, CURLUPART_OPTIONS)) {
        return refusal("userinfo");
    }
    if (get_part(h, CURLUPART_ZONEID)) {
        return refusal("zone_id");
    }

    auto scheme = get_part(h, CURLUPART_SCHEME);
    auto host = get_part(h, CURLUPART_HOST);
    auto port = get_part(h, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    auto path = get_part(h, CURLUPART_PATH);
    if (!scheme || !host || !port || !path) {
        return refusal("malformed");
    }
    view.scheme = lowercase(*scheme);
    view.host = std::move(*host);
    view.path = std::move(*path);

    unsigned number = 0;
    const auto [end, ec] = std::from_chars(port->data(), port->data() + port->size(), number);
    if (ec != std::errc{} || end != port->data() + port->size() || number > 65535) {
        return refusal("malformed");
    }
    view.port = static_cast<uint16_t>(number);
    return view;
}

// A bracketed host: an IPv6 address with no zone id. A zone names an
// interface of this machine, which a client has no business choosing.
verdict<ip_address> check_ipv6_syntax(std::string_view host) {
    if (host.find('%') != std::string_view::npos) {
        return refusal("zone_id");
    }
    const auto address = ip_address::parse(host);
    if (!address || address->family != ip_family::v6) {
        return refusal("ipv6_literal");
    }
    return *address;
}

// The host as written, before libcurl sees it: its syntax, and whether it is
// an address. Fills in `out.host` and `out.literal`.
std::string_view check_raw_host(const raw_url& raw, checked_url& out) {
    if (raw.bracketed) {
        auto literal = check_ipv6_syntax(raw.host);
        if (!literal) {
            return literal.error();
        }
        out.literal = *literal;
        out.host = lowercase(raw.host);
        return {};
    }

    auto name = check_name_syntax(raw.host);
    if (!name) {
        return name.error();
    }
    // libcurl rewrites "0x7f.1", "0177.0.0.1" and "2130706433" into
    // "127.0.0.1", and other resolvers read them differently again; only
    // the one spelling everybody agrees on is let through, and
    // ip_address::parse takes exactly that. It gets the raw text, so that
    // "127.0.0.1." is refused too rather than stripped into a quad.
    if (looks_numeric(*name)) {
        out.literal = ip_address::parse(raw.host);
        if (!out.literal || out.literal->family != ip_family::v4) {
            return "numeric_host";
        }
    }
    out.host = std::move(*name);
    return {};
}

// Whether libcurl read the same host. It rewrites some IPv6 spellings
// ("0:0:0:0:0:0:0:1" to "::1"), so addresses are compared as addresses and
// libcurl's spelling is kept; any rewrite of a name or a dotted quad is one
// this check did not foresee.
bool agree_on_host(const raw_url& raw, std::string_view curl_host, checked_url& out) {
    if (!raw.bracketed) {
        return lowercase(curl_host) == lowercase(raw.host);
    }
    const bool curl_bracketed =
        curl_host.size() >= 2 && curl_host.front() == '[' && curl_host.back() == ']';
    if (!curl_bracketed) {
        return false;
    }
    const std::string_view inner = curl_host.substr(1, curl_host.size() - 2);
    const auto theirs = ip_address::parse(inner);
    if (!theirs || !out.literal || *theirs != *out.literal) {
        return false;
    }
    out.host = lowercase(inner);
    return true;
}

// The rules on who may be named, once the host is known to be what libcurl
// will connect to.
std::string_view check_host_rules(const checked_url& out, const url_rules& rules) {
    if (!out.literal) {
        if (const std::string_view rule = check_local_name(out.host, rules); !rule.empty()) {
            return rule;
        }
    }
    // Literal addresses never match a domain: an operator who names domains
    // means names.
    if (!rules.allowed_domains.empty() && (out.literal || !in_allowed_domains(out.host, rules))) {
        return "domain_not_allowed";
    }
    return {};
}

std::string host_for_url(const checked_url& out) {
    const bool v6 = out.literal && out.literal->family == ip_family::v6;
    return v6 ? "[" + out.host + "]" : out.host;
}

// The URL handed to libcurl: the parsed URL with the checked host written
// back (lowercase, trailing dot gone) and the fragment dropped, since it is
// never sent and could hold anything.
std::string_view build_urls(curl_view& view, checked_url& out) {
    CURLU* h = view.handle.get();
    const std::string host = host_for_url(out);
    if (curl_url_set(h, CURLUPART_HOST, host.c_str(), 0) != CURLUE_OK ||
        curl_url_set(h, CURLUPART_FRAGMENT, nullptr, 0) != CURLUE_OK) {
        return "malformed";
    }
    auto url = get_part(h, CURLUPART_URL);
    if (!url) {
        return "malformed";
    }
    out.url = std::move(*url);
    out.redacted = out.scheme + "://" + host + ":" + std::to_string(out.port) + view.path;
    return {};
}

// Everything that can be decided from the text as written, before libcurl
// sees it: the bytes, the scheme, userinfo, the port and the host's syntax.
verdict<raw_url> check_before_curl(std::string_view url, checked_url& out) {
    if (const std::string_view rule = check_bytes(url); !rule.empty()) {
        return refusal(rule);
    }
    auto raw = split_raw(url);
    if (!raw) {
        return raw;
    }
    out.scheme = lowercase(raw->scheme);
    auto port = check_port(*raw, out.scheme);
    if (!port) {
        return refusal(port.error());
    }
    out.port = *port;
    if (const std::string_view rule = check_raw_host(*raw, out); !rule.empty()) {
        return refusal(rule);
    }
    return raw;
}

}  // namespace

core::expected<checked_url> check_url(std::string_view url, const url_rules& rules) {
    const auto refuse = [&](std::string_view rule) {
        return core::unexpected(make_refusal(rule, safe_prefix(url)));
    };

    checked_url out;
    auto raw = check_before_curl(url, out);
    if (!raw) {
        return refuse(raw.error());
    }
    auto view = parse_with_curl(std::string(url));
    if (!view) {
        return refuse(view.error());
    }
    const bool agree = view->scheme == out.scheme && view->port == out.port &&
                       agree_on_host(*raw, view->host, out);
    if (!agree) {
        return refuse("parser_mismatch");
    }

    if (const std::string_view rule = check_host_rules(out, rules); !rule.empty()) {
        return refuse(rule);
    }
    if (std::find(rules.allowed_ports.begin(), rules.allowed_ports.end(), out.port) ==
        rules.allowed_ports.end()) {
        return refuse("port_not_allowed");
    }
    if (const std::string_view rule = build_urls(*view, out); !rule.empty()) {
        return refuse(rule);
    }
    return out;
}

core::error media_refusal(std::string detail) {
    core::error e = core::make_error(core::error_code::media_unavailable, media_public_message);
    e.internal_detail = std::move(detail);
    return e;
}

}  // namespace osprey::media
