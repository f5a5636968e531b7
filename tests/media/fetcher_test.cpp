#include "media/fetcher.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "fake_resolver.hpp"
#include "loopback_http_server.hpp"

namespace osprey::media {
namespace {

using osprey::testing::fake_resolver;
using osprey::testing::loopback_http_server;

const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(24, 'x');

// Only loopback is used: 127.0.0.1 is the allowed "media store", 127.0.0.2 a
// victim the fetcher must never reach. Refusals of private, link-local and
// public addresses are tested in tests/net, inside a network namespace.
class FetcherTest : public ::testing::Test {
protected:
    FetcherTest()
        : store_("127.0.0.1"),
          victim_("127.0.0.2", store_.port()),
          policy_({*cidr::parse("127.0.0.1/32")}, {}) {
        names_.set("media.example.com", {{ip("127.0.0.1")}});
        names_.set("victim.example.com", {{ip("127.0.0.2")}});
        victim_.route("/image.png", loopback_http_server::response(200, "", "victim secret"));
    }

    static ip_address ip(const char* text) { return *ip_address::parse(text); }

    fetcher make(fetch_options o = {}) {
        o.urls.allowed_ports = {static_cast<uint16_t>(store_.port())};
        return fetcher(std::move(o), policy_, names_);
    }

    std::string url(const std::string& host, const std::string& path) const {
        return "http://" + host + ":" + std::to_string(store_.port()) + path;
    }

    static std::string rule_of(const core::error& e) {
        const auto start = e.internal_detail.find("rule=");
        return e.internal_detail.substr(start + 5, e.internal_detail.find(' ', start) - start - 5);
    }

    loopback_http_server store_;
    loopback_http_server victim_;
    address_policy policy_;
    fake_resolver names_;
};

TEST_F(FetcherTest, FetchesAnAllowedImageWithOneLookup) {
    store_.route("/image.png", loopback_http_server::response(200, "", png));
    auto body = make().fetch(url("media.example.com", "/image.png"), "req_t");
    ASSERT_TRUE(body) << body.error().internal_detail;
    EXPECT_EQ(*body, png);
    EXPECT_EQ(names_.lookups("media.example.com"), 1);
    EXPECT_NE(store_.last_request().find("Accept-Encoding: identity"), std::string::npos);
}

TEST_F(FetcherTest, RefusesANameWithOneRefusedAnswer) {
    names_.set("mixed.example.com", {{ip("127.0.0.1"), ip("127.0.0.2")}});
    store_.route("/image.png", loopback_http_server::response(200, "", png));
    auto body = make().fetch(url("mixed.example.com", "/image.png"), "req_t");
    ASSERT_FALSE(body);
    EXPECT_EQ(body.error().public_message, media_public_message);
    EXPECT_EQ(rule_of(body.error()), "loopback");
    EXPECT_EQ(store_.requests() + victim_.requests(), 0);
}

TEST_F(FetcherTest, ChecksEveryRedirectHopAgain) {
    store_.route("/hop",
                 loopback_http_server::response(
                     302, "Location: " + url("victim.example.com", "/image.png") + "\r\n", ""));
    auto body = make().fetch(url("media.example.com", "/hop"), "req_t");
    ASSERT_FALSE(body);
    EXPECT_EQ(rule_of(body.error()), "loopback");
    EXPECT_EQ(store_.requests(), 1);
    EXPECT_EQ(victim_.requests(), 0);
}

TEST_F(FetcherTest, AChangedAnswerAtTheNextHopIsCheckedNotTrusted) {
    // DNS rebinding: the first lookup says 127.0.0.1, the second 127.0.0.2.
    names_.set("rebind.example.com", {{ip("127.0.0.1")}, {ip("127.0.0.2")}});
    store_.route("/start", loopback_http_server::response(302, "Location: /image.png\r\n", ""));
    auto body = make().fetch(url("rebind.example.com", "/start"), "req_t");
    ASSERT_FALSE(body);
    EXPECT_EQ(names_.lookups("rebind.example.com"), 2);
    EXPECT_EQ(victim_.requests(), 0);
}

TEST_F(FetcherTest, StopsAfterMaxRedirects) {
    store_.route("/loop", loopback_http_server::response(301, "Location: /loop\r\n", ""));
    fetch_options o;
    o.max_redirects = 3;
    auto body = make(o).fetch(url("media.example.com", "/loop"), "req_t");
    ASSERT_FALSE(body);
    EXPECT_EQ(rule_of(body.error()), "too_many_redirects");
    EXPECT_EQ(store_.requests(), 4);
}

TEST_F(FetcherTest, RefusesARedirectToAnotherScheme) {
    store_.route("/file",
                 loopback_http_server::response(302, "Location: file:///etc/passwd\r\n", ""));
    auto body = make().fetch(url("media.example.com", "/file"), "req_t");
    ASSERT_FALSE(body);
    EXPECT_EQ(rule_of(body.error()), "scheme");
}

TEST_F(FetcherTest, CapsTheBodyWhateverContentLengthSays) {
    fetch_options o;
    o.max_bytes = 1000;
    // No Content-Length at all: the body ends when the connection does.
    store_.route("/endless",
                 "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(64 * 1024, 'a'));
    auto endless = make(o).fetch(url("media.example.com", "/endless"), "req_t");
    ASSERT_FALSE(endless);
    EXPECT_EQ(rule_of(endless.error()), "too_large");
    // An honest Content-Length over the cap is refused before the body.
    store_.route("/big", loopback_http_server::response(200, "", std::string(5000, 'b')));
    auto big = make(o).fetch(url("media.example.com", "/big"), "req_t");
    ASSERT_FALSE(big);
    EXPECT_EQ(rule_of(big.error()), "too_large");
}

TEST_F(FetcherTest, RefusesEncodedBodies) {
    store_.route("/gz", loopback_http_server::response(200, "Content-Encoding: gzip\r\n", png));
    auto body = make().fetch(url("media.example.com", "/gz"), "req_t");
    ASSERT_FALSE(body);
    EXPECT_EQ(rule_of(body.error()), "encoded_body");
}

TEST_F(FetcherTest, GivesUpOnAStalledBody) {
    store_.route("/stall", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", true);
    fetch_options o;
    o.timeout = std::chrono::milliseconds(400);
    auto body = make(o).fetch(url("media.example.com", "/stall"), "req_t");
    ASSERT_FALSE(body);
    EXPECT_EQ(rule_of(body.error()), "timeout");
}

TEST_F(FetcherTest, IgnoresProxyEnvironmentVariables) {
    // A proxy that does not exist: using it would fail the fetch.
    ::setenv("http_proxy", "http://127.0.0.3:9", 1);
    ::setenv("ALL_PROXY", "http://127.0.0.3:9", 1);
    store_.route("/image.png", loopback_http_server::response(200, "", png));
    auto body = make().fetch(url("media.example.com", "/image.png"), "req_t");
    ::unsetenv("http_proxy");
    ::unsetenv("ALL_PROXY");
    ASSERT_TRUE(body) << body.error().internal_detail;
}

TEST_F(FetcherTest, RefusesErrorStatuses) {
    auto body = make().fetch(url("media.example.com", "/missing"), "req_t");
    ASSERT_FALSE(body);
    EXPECT_EQ(rule_of(body.error()), "http_status");
    EXPECT_EQ(body.error().public_message, media_public_message);
}

}  // namespace
}  // namespace osprey::media

namespace osprey::media {
namespace {

// Regression: an IPv6 literal host went into a CURLOPT_RESOLVE pin entry,
// which this libcurl cannot parse, so no IPv6 literal could ever be fetched.
TEST(FetcherIpv6, FetchesFromAnAllowedIpv6Literal) {
    const int listener = ::socket(AF_INET6, SOCK_STREAM, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        ::close(listener);
        GTEST_SKIP() << "no IPv6 loopback on this machine";
    }
    ::listen(listener, 1);
    socklen_t len = sizeof sa;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&sa), &len);
    const uint16_t port = ntohs(sa.sin6_port);
    std::thread server([listener] {
        const int client = ::accept(listener, nullptr, nullptr);
        if (client < 0) {
            return;
        }
        char buf[2048];
        ::recv(client, buf, sizeof buf, 0);
        const std::string reply = loopback_http_server::response(200, "", png);
        ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
        ::close(client);
    });

    address_policy policy({*cidr::parse("::1/128")}, {});
    fake_resolver names;
    fetch_options o;
    o.urls.allowed_ports = {port};
    fetcher f(o, policy, names);
    auto body = f.fetch("http://[::1]:" + std::to_string(port) + "/image.png", "req_t");
    ::shutdown(listener, SHUT_RDWR);  // wakes the accept if the fetch never connected
    server.join();
    ::close(listener);
    ASSERT_TRUE(body) << body.error().internal_detail;
    EXPECT_EQ(*body, png);
}

}  // namespace
}  // namespace osprey::media
