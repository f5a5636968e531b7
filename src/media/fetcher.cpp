#include "media/fetcher.hpp"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "core/log.hpp"

namespace osprey::media {

namespace {

using clock = std::chrono::steady_clock;

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto l = core::log::get("media");
    return l;
}

std::string join(const std::vector<ip_address>& addresses) {
    std::string out;
    for (const auto& a : addresses) {
        out += out.empty() ? "" : ",";
        out += a.to_string();
    }
    return out;
}

// Shared with libcurl's callbacks for one hop.
struct transfer {
    const address_policy* policy = nullptr;
    std::vector<ip_address> pinned;  // the only addresses a socket may reach
    bool pinned_trusted = false;     // the operator's proxy or a host it allowed by name
    std::size_t max_bytes = 0;
    std::size_t max_header_bytes = 0;

    std::string body;
    std::size_t header_bytes = 0;
    std::string location;
    std::string content_encoding;
    std::string refused;  // why a socket was refused, for the log
    bool too_large = false;
    bool headers_too_large = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<transfer*>(user);
    const size_t n = size * count;
    // Abort as soon as the cap is passed, whatever Content-Length said.
    if (t->body.size() + n > t->max_bytes) {
        t->too_large = true;
        return 0;
    }
    t->body.append(data, n);
    return n;
}

std::string trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

bool header_is(std::string_view line, std::string_view name) {
    return line.size() > name.size() && line[name.size()] == ':' &&
           std::equal(name.begin(), name.end(), line.begin(), [](char lower, char c) {
               return std::tolower(static_cast<unsigned char>(c)) == lower;
           });
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<transfer*>(user);
    const size_t n = size * count;
    t->header_bytes += n;
    if (t->header_bytes > t->max_header_bytes) {
        t->headers_too_large = true;
        return 0;
    }
    const std::string_view line(data, n);
    if (line.rfind("HTTP/", 0) == 0) {
        t->location.clear();  // a new response (after a 1xx) starts over
        t->content_encoding.clear();
    } else if (header_is(line, "location")) {
        t->location = trimmed(line.substr(9));
    } else if (header_is(line, "content-encoding")) {
        t->content_encoding = trimmed(line.substr(17));
    }
    return n;
}

// The second check, as the socket opens: whatever libcurl was about to
// connect to must be one of the addresses that passed the policy, and pass
// it again. Nothing can slip in between the lookup and the connection.
curl_socket_t on_open_socket(void* user, curlsocktype, curl_sockaddr* address) {
    auto* t = static_cast<transfer*>(user);
    auto a = ip_address::from_sockaddr(&address->addr);
    if (!a) {
        t->refused = "socket_family";
        return CURL_SOCKET_BAD;
    }
    if (std::find(t->pinned.begin(), t->pinned.end(), *a) == t->pinned.end()) {
        t->refused = "socket_not_pinned address=" + a->to_string();
        return CURL_SOCKET_BAD;
    }
    if (t->pinned_trusted) {
        return socket(address->family, address->socktype, address->protocol);
    }
    if (auto verdict = t->policy->check(*a); !verdict.allowed) {
        t->refused = "socket_" + std::string(verdict.rule) + " address=" + a->to_string();
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

struct curl_deleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
    void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

void initialize_curl() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// "host:port:addr1,addr2" for CURLOPT_RESOLVE, so that libcurl does no lookup
// of its own and connects only to what was checked.
std::string pin_entry(const checked_url& url, const std::vector<ip_address>& addresses) {
    std::string entry = url.host + ":" + std::to_string(url.port) + ":";
    for (size_t i = 0; i < addresses.size(); ++i) {
        const bool v6 = addresses[i].family == ip_family::v6;
        entry += (i ? "," : "") + std::string(v6 ? "[" : "") + addresses[i].to_string() +
                 (v6 ? "]" : "");
    }
    return entry;
}

std::string resolve_location(const std::string& base, const std::string& location) {
    std::unique_ptr<CURLU, curl_deleter> u(curl_url());
    if (curl_url_set(u.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
        curl_url_set(u.get(), CURLUPART_URL, location.c_str(), CURLU_NON_SUPPORT_SCHEME) !=
            CURLUE_OK) {
        return {};
    }
    char* out = nullptr;
    if (curl_url_get(u.get(), CURLUPART_URL, &out, 0) != CURLUE_OK) {
        return {};
    }
    std::string resolved(out);
    curl_free(out);
    return resolved;
}

std::string transfer_rule(CURLcode rc, const transfer& t) {
    if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        return "too_large";
    }
    if (t.headers_too_large) {
        return "headers_too_large";
    }
    if (!t.refused.empty()) {
        return "socket_refused";
    }
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_CONNECT: return "connect_failed";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE: return "tls";
    case CURLE_UNSUPPORTED_PROTOCOL: return "scheme";
    default: return "transfer_failed";
    }
}

std::string proxy_host(const std::string& proxy) {
    std::unique_ptr<CURLU, curl_deleter> u(curl_url());
    char* host = nullptr;
    if (curl_url_set(u.get(), CURLUPART_URL, proxy.c_str(), CURLU_NON_SUPPORT_SCHEME) !=
            CURLUE_OK ||
        curl_url_get(u.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        return {};
    }
    std::string out(host);
    curl_free(host);
    if (out.size() > 2 && out.front() == '[') {
        out = out.substr(1, out.size() - 2);
    }
    return out;
}

}  // namespace

struct fetcher::hop_result {
    long status = 0;
    std::string body;
    std::string location;
    std::string content_encoding;
};

fetcher::fetcher(fetch_options options, const address_policy& policy, resolver& names)
    : options_(std::move(options)), policy_(policy), names_(names) {
    initialize_curl();
    if (options_.proxy.empty()) {
        return;
    }
    // The proxy is the only peer sockets may reach then; it makes the final
    // lookup itself, so its own egress rules are the operator's to set.
    const std::string host = proxy_host(options_.proxy);
    if (auto found = host.empty() ? core::expected<std::vector<ip_address>>(
                                        core::unexpected(media_refusal("rule=bad_proxy")))
                                  : names_.resolve(host)) {
        proxy_addresses_ = std::move(*found);
    } else {
        core::log::error(*logger(), "media.proxy_unresolvable",
                         {{"detail", found.error().internal_detail}});
    }
}

bool fetcher::operator_allowed(const std::string& host) const {
    const auto& names = options_.urls.allowed_names;
    return std::find(names.begin(), names.end(), host) != names.end();
}

core::expected<std::vector<ip_address>> fetcher::checked_addresses(const checked_url& url) const {
    std::vector<ip_address> addresses;
    if (url.literal) {
        addresses.push_back(*url.literal);
    } else {
        auto found = names_.resolve(url.host);
        if (!found) {
            return core::unexpected(found.error());
        }
        addresses = std::move(*found);
    }
    if (operator_allowed(url.host)) {
        return addresses;
    }
    // One refused answer refuses the name: a client must not get to pick
    // the public answer for the check and the private one for the fetch.
    for (const auto& a : addresses) {
        if (auto verdict = policy_.check(a); !verdict.allowed) {
            return core::unexpected(
                media_refusal("rule=" + std::string(verdict.rule) + " host=" + url.host +
                              " addresses=" + join(addresses) + " refused=" + a.to_string()));
        }
    }
    return addresses;
}

void fetcher::configure(void* c, const checked_url& url, void* state, void* pins,
                        std::chrono::milliseconds remaining) const {
    curl_easy_setopt(c, CURLOPT_URL, url.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    // An empty proxy turns off the proxy environment variables too.
    curl_easy_setopt(c, CURLOPT_PROXY, options_.proxy.c_str());
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) {
        curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
        curl_easy_setopt(c, CURLOPT_CAPATH, "/etc/ssl/certs");
    }
    curl_easy_setopt(c, CURLOPT_RESOLVE, pins);
    curl_easy_setopt(c, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(remaining.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min(remaining, options_.connect_timeout).count()));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, options_.min_speed_bytes);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.min_speed_time.count()));
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_bytes));
    curl_easy_setopt(c, CURLOPT_USERAGENT, "osprey-media-fetcher");
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, state);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, state);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, state);
}

core::expected<fetcher::hop_result> fetcher::fetch_hop(const checked_url& url,
                                                       clock::time_point deadline) const {
    auto addresses = checked_addresses(url);
    if (!addresses) {
        return core::unexpected(addresses.error());
    }
    const auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (remaining.count() <= 0) {
        return core::unexpected(media_refusal("rule=timeout host=" + url.host));
    }

    transfer t;
    t.policy = &policy_;
    t.max_bytes = options_.max_bytes;
    t.max_header_bytes = options_.max_header_bytes;
    t.pinned = options_.proxy.empty() ? *addresses : proxy_addresses_;
    t.pinned_trusted = !options_.proxy.empty() || operator_allowed(url.host);
    // A literal host needs no pin: libcurl does not look it up (and this
    // libcurl cannot parse an IPv6 host in a pin entry). The socket-open
    // check holds either way.
    std::unique_ptr<curl_slist, curl_deleter> pins(
        url.literal ? nullptr : curl_slist_append(nullptr, pin_entry(url, *addresses).c_str()));
    std::unique_ptr<CURL, curl_deleter> c(curl_easy_init());
    if (!c || (!url.literal && !pins)) {
        return core::unexpected(media_refusal("rule=internal reason=curl_easy_init failed"));
    }
    // Encoded bodies are refused, so none is asked for; the byte cap then
    // counts exactly the bytes that will be decoded as media.
    std::unique_ptr<curl_slist, curl_deleter> headers(
        curl_slist_append(nullptr, "Accept-Encoding: identity"));
    configure(c.get(), url, &t, pins.get(), remaining);
    curl_easy_setopt(c.get(), CURLOPT_HTTPHEADER, headers.get());
    char reason[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(c.get(), CURLOPT_ERRORBUFFER, reason);

    const CURLcode rc = curl_easy_perform(c.get());
    if (rc != CURLE_OK) {
        return core::unexpected(media_refusal("rule=" + transfer_rule(rc, t) + " host=" + url.host +
                                              " addresses=" + join(*addresses) + " curl=\"" +
                                              (reason[0] ? reason : curl_easy_strerror(rc)) + "\"" +
                                              (t.refused.empty() ? "" : " socket=" + t.refused)));
    }
    hop_result r;
    curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &r.status);
    r.body = std::move(t.body);
    r.location = std::move(t.location);
    r.content_encoding = std::move(t.content_encoding);
    return r;
}

core::expected<std::string> fetcher::fetch(std::string_view url,
                                           std::string_view request_id) const {
    auto result = follow(std::string(url));
    if (!result) {
        core::log::warn(*logger(), "media.fetch_refused",
                        {{"req", request_id}, {"detail", result.error().internal_detail}});
    }
    return result;
}

core::expected<std::string> fetcher::follow(std::string url) const {
    const auto deadline = clock::now() + options_.timeout;
    std::string chain;
    for (int hop = 0;; ++hop) {
        auto checked = check_url(url, options_.urls);
        if (!checked) {
            checked.error().internal_detail += chain;
            return core::unexpected(checked.error());
        }
        chain += (chain.empty() ? " chain=" : ",") + checked->redacted;
        auto r = fetch_hop(*checked, deadline);
        if (!r) {
            r.error().internal_detail += " url=" + checked->redacted + chain;
            return core::unexpected(r.error());
        }
        const long s = r->status;
        if (s == 301 || s == 302 || s == 303 || s == 307 || s == 308) {
            if (hop >= options_.max_redirects) {
                return core::unexpected(media_refusal("rule=too_many_redirects" + chain));
            }
            url = resolve_location(checked->url, r->location);
            if (url.empty()) {
                return core::unexpected(
                    media_refusal("rule=bad_redirect status=" + std::to_string(s) + chain));
            }
            continue;
        }
        if (s < 200 || s > 299) {
            return core::unexpected(
                media_refusal("rule=http_status status=" + std::to_string(s) + chain));
        }
        if (!r->content_encoding.empty() && r->content_encoding != "identity") {
            return core::unexpected(
                media_refusal("rule=encoded_body encoding=" + r->content_encoding + chain));
        }
        return std::move(r->body);
    }
}

}  // namespace osprey::media
