#include "media/url_policy.hpp"

#include <ostream>
#include <string>

#include <gtest/gtest.h>

// These tests only compute: check_url opens no socket and resolves no name.

namespace osprey::media {
namespace {

// The rule named in an error's internal detail ("rule=userinfo url=...").
std::string rule_of(const core::error& e) {
    const std::string& d = e.internal_detail;
    if (d.rfind("rule=", 0) != 0) {
        return "<no rule in: " + d + ">";
    }
    return d.substr(5, d.find(' ') - 5);
}

struct refused_case {
    std::string url;
    std::string rule;
};

void PrintTo(const refused_case& c, std::ostream* os) {
    *os << c.url << " -> " << c.rule;
}

class UrlPolicyRefuses : public ::testing::TestWithParam<refused_case> {};

// Every refusal is the one generic error; the rule is only in the detail,
// and the detail never repeats a query or userinfo ("secret" in the tables).
TEST_P(UrlPolicyRefuses, WithTheRuleThatApplies) {
    const refused_case& c = GetParam();
    const auto result = check_url(c.url, url_rules{});
    ASSERT_FALSE(result.has_value()) << "accepted as " << result->url;

    const core::error& e = result.error();
    EXPECT_EQ(rule_of(e), c.rule) << e.internal_detail;
    EXPECT_EQ(e.code, core::error_code::media_unavailable);
    EXPECT_EQ(e.public_message, media_public_message);
    EXPECT_TRUE(e.param.empty());
    EXPECT_EQ(e.internal_detail.find("secret"), std::string::npos) << e.internal_detail;
}

// libcurl turns each of these into a dotted quad (or keeps it as a name that
// inet_aton reads as a number); only the plain dotted quad may pass.
INSTANTIATE_TEST_SUITE_P(
    NumericIpv4Spellings, UrlPolicyRefuses,
    ::testing::Values(refused_case{"http://2130706433/", "numeric_host"},
                      refused_case{"http://0177.0.0.1/", "numeric_host"},
                      refused_case{"http://0x7f.1/", "numeric_host"},
                      refused_case{"http://0X7F.1/", "numeric_host"},
                      refused_case{"http://0x7f000001/", "numeric_host"},
                      refused_case{"http://0x7f.0x0.0x0.0x1/", "numeric_host"},
                      refused_case{"http://0x7f.0.0.1/", "numeric_host"},
                      refused_case{"http://127.1/", "numeric_host"},
                      refused_case{"http://127.0.1/", "numeric_host"},
                      refused_case{"http://0177.1/", "numeric_host"},
                      refused_case{"http://127.000.000.001/", "numeric_host"},
                      refused_case{"http://00000000000127.0.0.1/", "numeric_host"},
                      refused_case{"http://127.0.0.1./", "numeric_host"},
                      refused_case{"http://0/", "numeric_host"},
                      refused_case{"http://10.1/", "numeric_host"},
                      refused_case{"http://192.168.1/", "numeric_host"},
                      refused_case{"http://3232235777/", "numeric_host"},
                      refused_case{"http://0xc0a80101/", "numeric_host"},
                      refused_case{"http://012.0.0.1/", "numeric_host"},
                      refused_case{"http://172.16.1/", "numeric_host"},
                      refused_case{"http://0xac.020.1.1/", "numeric_host"},
                      refused_case{"http://2852039166/", "numeric_host"},
                      refused_case{"http://0xa9.0xfe.0xa9.0xfe/", "numeric_host"},
                      refused_case{"http://0251.0376.0251.0376/", "numeric_host"},
                      refused_case{"http://1.2.3.4.5/", "numeric_host"},
                      refused_case{"http://999.1.1.1/", "numeric_host"},
                      refused_case{"http://256.0.0.1/", "numeric_host"},
                      refused_case{"http://0x/", "numeric_host"},
                      refused_case{"http://a.0x1/", "numeric_host"},
                      refused_case{"http://example.123/", "numeric_host"}));

// libcurl reads "evil.com\" as the user of good.com, where a browser reads
// the backslash as a slash and connects to evil.com: refused before either.
INSTANTIATE_TEST_SUITE_P(
    UserinfoAndBackslash, UrlPolicyRefuses,
    ::testing::Values(refused_case{"http://good.com@evil.com/", "userinfo"},
                      refused_case{"http://user:secret@example.com/", "userinfo"},
                      refused_case{"http://secret@example.com/", "userinfo"},
                      refused_case{"http://:@example.com/", "userinfo"},
                      refused_case{"http://:secret@example.com/", "userinfo"},
                      refused_case{"http://example.com:80@evil.com/", "userinfo"},
                      refused_case{"http://[::1]@evil.com/", "userinfo"},
                      refused_case{"https://secret@example.com:443/p?q=secret", "userinfo"},
                      refused_case{"http://evil.com\\@good.com/", "backslash"},
                      refused_case{"http://evil.com\\good.com/", "backslash"},
                      refused_case{"http://example.com/a\\b", "backslash"}));

INSTANTIATE_TEST_SUITE_P(Schemes, UrlPolicyRefuses,
                         ::testing::Values(refused_case{"file:///etc/passwd", "scheme"},
                                           refused_case{"ftp://example.com/", "scheme"},
                                           refused_case{"gopher://example.com/", "scheme"},
                                           refused_case{"data:text/plain,secret", "scheme"},
                                           refused_case{"javascript:alert(1)", "scheme"},
                                           refused_case{"ws://example.com/", "scheme"},
                                           refused_case{"httpx://example.com/", "scheme"},
                                           refused_case{"//example.com/", "scheme"},
                                           refused_case{"example.com", "scheme"},
                                           refused_case{"example.com:80/", "scheme"},
                                           refused_case{"", "scheme"},
                                           refused_case{"http:example.com/", "slashes"},
                                           refused_case{"http:/example.com/", "slashes"},
                                           refused_case{"http:///example.com/", "slashes"},
                                           refused_case{"http:////example.com/", "slashes"}));

INSTANTIATE_TEST_SUITE_P(
    Bytes, UrlPolicyRefuses,
    ::testing::Values(refused_case{"http://exa mple.com/", "space"},
                      refused_case{"http://example.com/a b", "space"},
                      refused_case{" http://example.com/", "space"},
                      refused_case{"http://example.com/\tx", "control_char"},
                      refused_case{"http://example.com/\r\nX-Injected: 1", "control_char"},
                      refused_case{std::string("http://example.com\0.evil.com/", 29),
                                   "control_char"},
                      refused_case{"http://example.com/\x7f", "control_char"},
                      refused_case{"http://m\xc3\xbcnchen.de/", "non_ascii"},
                      refused_case{"http://127\xe3\x80\x82"
                                   "0.0.1/",
                                   "non_ascii"},
                      refused_case{"http://example.com/caf\xc3\xa9", "non_ascii"},
                      refused_case{"http://ex\xef\xbd\x81mple.com/", "non_ascii"}));

INSTANTIATE_TEST_SUITE_P(HostSyntax, UrlPolicyRefuses,
                         ::testing::Values(refused_case{"http://:80/", "host_empty"},
                                           refused_case{"http://?q=secret", "host_empty"},
                                           refused_case{"http://#x", "host_empty"},
                                           refused_case{"http://%6c%6fcalhost/", "host_percent"},
                                           refused_case{"http://example%2ecom/", "host_percent"},
                                           refused_case{"http://ex!ample.com/", "host_chars"},
                                           refused_case{"http://a.b;c.com/", "host_chars"},
                                           refused_case{"http://a=b.com/", "host_chars"},
                                           refused_case{"http://example.com../", "empty_label"},
                                           refused_case{"http://a..b.com/", "empty_label"},
                                           refused_case{"http://.example.com/", "empty_label"},
                                           refused_case{"http://./", "empty_label"},
                                           refused_case{"http://" + std::string(64, 'a') + ".com/",
                                                        "host_length"},
                                           refused_case{"http://[fe80::1%25eth0]/", "zone_id"},
                                           refused_case{"http://[fe80::1%eth0]/", "zone_id"},
                                           refused_case{"http://[::1%25]/", "zone_id"},
                                           refused_case{"http://[127.0.0.1]/", "ipv6_literal"},
                                           refused_case{"http://[v1.abc]/", "ipv6_literal"},
                                           refused_case{"http://[::1]x/", "ipv6_literal"},
                                           refused_case{"http://[::1/", "ipv6_literal"},
                                           refused_case{"http://[]/", "ipv6_literal"},
                                           refused_case{"http://[::1]]/", "ipv6_literal"}));

// An empty port is no port to libcurl; a padded one means the same number
// to libcurl but maybe not to the next parser. Only canonical ports pass.
INSTANTIATE_TEST_SUITE_P(
    Ports, UrlPolicyRefuses,
    ::testing::Values(refused_case{"http://example.com:/", "port"},
                      refused_case{"http://[::1]:/", "port"},
                      refused_case{"http://example.com:0/", "port"},
                      refused_case{"http://example.com:080/", "port"},
                      refused_case{"http://example.com:+80/", "port"},
                      refused_case{"http://example.com:-1/", "port"},
                      refused_case{"http://example.com:65536/", "port"},
                      refused_case{"http://example.com:99999999999999999999/", "port"},
                      refused_case{"http://example.com:80:81/", "port"},
                      refused_case{"http://example.com:8080/", "port_not_allowed"},
                      refused_case{"https://example.com:22/", "port_not_allowed"},
                      refused_case{"http://example.com:65535/", "port_not_allowed"}));

INSTANTIATE_TEST_SUITE_P(
    LocalNames, UrlPolicyRefuses,
    ::testing::Values(refused_case{"http://localhost/", "local_name"},
                      refused_case{"http://LOCALHOST/", "local_name"},
                      refused_case{"http://localhost./", "local_name"},
                      refused_case{"http://localhost:443/", "local_name"},
                      refused_case{"http://api.localhost/", "local_name"},
                      refused_case{"http://printer.local/", "local_name"},
                      refused_case{"http://metadata.google.internal/", "local_name"},
                      refused_case{"http://router.home.arpa/", "local_name"},
                      refused_case{"http://1.0.0.127.in-addr.arpa/", "local_name"},
                      refused_case{"http://foo.test/", "local_name"},
                      refused_case{"http://foo.invalid/", "local_name"},
                      refused_case{"http://hidden.onion/", "local_name"},
                      refused_case{"http://foo.example/", "local_name"},
                      refused_case{"HTTPS://FOO.EXAMPLE./", "local_name"},
                      refused_case{"http://intranet/", "single_label"},
                      refused_case{"http://intranet./", "single_label"},
                      refused_case{"http://com/", "single_label"}));

TEST(UrlPolicyLength, AcceptsExactlyMaxUrlBytes) {
    const std::string prefix = "http://example.com/";
    const std::string url = prefix + std::string(max_url_bytes - prefix.size(), 'a');
    ASSERT_EQ(url.size(), max_url_bytes);
    EXPECT_TRUE(check_url(url, url_rules{}).has_value());
}

TEST(UrlPolicyLength, RefusesOneByteMore) {
    const std::string prefix = "http://example.com/";
    const std::string url = prefix + std::string(max_url_bytes + 1 - prefix.size(), 'a');
    const auto result = check_url(url, url_rules{});
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(rule_of(result.error()), "too_long");
}

struct accepted_case {
    std::string url;
    std::string scheme;
    std::string host;
    uint16_t port;
    std::string literal;  // empty: a name, not an address
    std::string fetch_url;
    std::string redacted;
};

void PrintTo(const accepted_case& c, std::ostream* os) {
    *os << c.url;
}

class UrlPolicyAccepts : public ::testing::TestWithParam<accepted_case> {};

TEST_P(UrlPolicyAccepts, SplitAsLibcurlSplitIt) {
    const accepted_case& c = GetParam();
    const auto result = check_url(c.url, url_rules{});
    ASSERT_TRUE(result.has_value()) << result.error().internal_detail;

    EXPECT_EQ(result->scheme, c.scheme);
    EXPECT_EQ(result->host, c.host);
    EXPECT_EQ(result->port, c.port);
    EXPECT_EQ(result->url, c.fetch_url);
    EXPECT_EQ(result->redacted, c.redacted);
    if (c.literal.empty()) {
        EXPECT_FALSE(result->literal.has_value());
    } else {
        ASSERT_TRUE(result->literal.has_value());
        EXPECT_EQ(*result->literal, ip_address::parse(c.literal).value());
    }
}

INSTANTIATE_TEST_SUITE_P(
    Names, UrlPolicyAccepts,
    ::testing::Values(
        accepted_case{"http://example.com/", "http", "example.com", 80, "", "http://example.com/",
                      "http://example.com:80/"},
        accepted_case{"http://example.com", "http", "example.com", 80, "", "http://example.com/",
                      "http://example.com:80/"},
        accepted_case{"HTTPS://EXAMPLE.COM/Path", "https", "example.com", 443, "",
                      "https://example.com/Path", "https://example.com:443/Path"},
        accepted_case{"HtTp://Img.Example.Com:443/a?b=c#frag", "http", "img.example.com", 443, "",
                      "http://img.example.com:443/a?b=c", "http://img.example.com:443/a"},
        accepted_case{"http://example.com./", "http", "example.com", 80, "", "http://example.com/",
                      "http://example.com:80/"},
        accepted_case{"http://example.com.evil.com/", "http", "example.com.evil.com", 80, "",
                      "http://example.com.evil.com/", "http://example.com.evil.com:80/"},
        accepted_case{"http://evil.com#@good.com/", "http", "evil.com", 80, "", "http://evil.com/",
                      "http://evil.com:80/"},
        accepted_case{"http://good.com?@evil.com/", "http", "good.com", 80, "",
                      "http://good.com/?@evil.com/", "http://good.com:80/"},
        accepted_case{"http://example.com/p@th?a=@b", "http", "example.com", 80, "",
                      "http://example.com/p@th?a=@b", "http://example.com:80/p@th"},
        accepted_case{"http://example.com/a/../b/./c", "http", "example.com", 80, "",
                      "http://example.com/b/c", "http://example.com:80/b/c"},
        accepted_case{"http://example.com/%2e%2e/x%20y", "http", "example.com", 80, "",
                      "http://example.com/%2e%2e/x%20y", "http://example.com:80/%2e%2e/x%20y"},
        accepted_case{"http://xn--mnchen-3ya.de/", "http", "xn--mnchen-3ya.de", 80, "",
                      "http://xn--mnchen-3ya.de/", "http://xn--mnchen-3ya.de:80/"},
        accepted_case{"http://1.2.3.4x/", "http", "1.2.3.4x", 80, "", "http://1.2.3.4x/",
                      "http://1.2.3.4x:80/"},
        accepted_case{"http://a.example.com?q=1", "http", "a.example.com", 80, "",
                      "http://a.example.com/?q=1", "http://a.example.com:80/"}));

// Literal addresses pass the URL policy with `literal` set; whether they may
// be reached is the address policy's question, asked after this one.
INSTANTIATE_TEST_SUITE_P(
    Literals, UrlPolicyAccepts,
    ::testing::Values(accepted_case{"http://93.184.216.34/", "http", "93.184.216.34", 80,
                                    "93.184.216.34", "http://93.184.216.34/",
                                    "http://93.184.216.34:80/"},
                      accepted_case{"http://127.0.0.1/", "http", "127.0.0.1", 80, "127.0.0.1",
                                    "http://127.0.0.1/", "http://127.0.0.1:80/"},
                      accepted_case{"https://10.0.0.1:443/x", "https", "10.0.0.1", 443, "10.0.0.1",
                                    "https://10.0.0.1:443/x", "https://10.0.0.1:443/x"},
                      accepted_case{"http://[::1]/", "http", "::1", 80, "::1", "http://[::1]/",
                                    "http://[::1]:80/"},
                      accepted_case{"http://[0:0:0:0:0:0:0:1]/", "http", "::1", 80, "::1",
                                    "http://[::1]/", "http://[::1]:80/"},
                      accepted_case{"http://[::ffff:127.0.0.1]/", "http", "::ffff:127.0.0.1", 80,
                                    "::ffff:127.0.0.1", "http://[::ffff:127.0.0.1]/",
                                    "http://[::ffff:127.0.0.1]:80/"},
                      accepted_case{"http://[::FFFF:7F00:1]/", "http", "::ffff:7f00:1", 80,
                                    "::ffff:7f00:1", "http://[::ffff:7f00:1]/",
                                    "http://[::ffff:7f00:1]:80/"},
                      accepted_case{"https://[2001:DB8::1]:443/a?secret=1", "https", "2001:db8::1",
                                    443, "2001:db8::1", "https://[2001:db8::1]:443/a?secret=1",
                                    "https://[2001:db8::1]:443/a"}));

core::expected<checked_url> check_with_domains(std::string_view url) {
    url_rules rules;
    rules.allowed_domains = {"example.com"};
    return check_url(url, rules);
}

TEST(UrlPolicyDomains, AllowsTheDomainAndItsSubdomains) {
    EXPECT_TRUE(check_with_domains("http://example.com/").has_value());
    EXPECT_TRUE(check_with_domains("http://cdn.example.com/").has_value());
    EXPECT_TRUE(check_with_domains("http://a.b.example.com/").has_value());
    EXPECT_TRUE(check_with_domains("HTTP://CDN.EXAMPLE.COM./").has_value());
}

TEST(UrlPolicyDomains, RefusesLookalikesAndLiterals) {
    for (const char* url :
         {"http://evil-example.com/", "http://notexample.com/", "http://example.com.evil.com/",
          "http://example.co/", "http://93.184.216.34/", "http://[2001:db8::1]/"}) {
        const auto result = check_with_domains(url);
        ASSERT_FALSE(result.has_value()) << url;
        EXPECT_EQ(rule_of(result.error()), "domain_not_allowed") << url;
    }
}

TEST(UrlPolicyDomains, LocalNamesAreRefusedBeforeTheDomainList) {
    url_rules rules;
    rules.allowed_domains = {"corp.local"};
    const auto result = check_url("http://media.corp.local/", rules);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(rule_of(result.error()), "local_name");
}

TEST(UrlPolicyAllowedNames, SkipTheLocalNameRules) {
    url_rules rules;
    rules.allowed_names = {"media.internal", "intranet"};
    for (const char* url : {"http://media.internal/", "http://MEDIA.INTERNAL./x",
                            "http://intranet/", "http://intranet:443/"}) {
        const auto result = check_url(url, rules);
        ASSERT_TRUE(result.has_value()) << url << " " << result.error().internal_detail;
        EXPECT_FALSE(result->literal.has_value());
    }
}

TEST(UrlPolicyAllowedNames, AllowOnlyTheExactName) {
    url_rules rules;
    rules.allowed_names = {"media.internal"};
    for (const char* url : {"http://other.internal/", "http://a.media.internal/"}) {
        const auto result = check_url(url, rules);
        ASSERT_FALSE(result.has_value()) << url;
        EXPECT_EQ(rule_of(result.error()), "local_name") << url;
    }
}

TEST(UrlPolicyAllowedNames, DoNotWidenTheDomainList) {
    url_rules rules;
    rules.allowed_names = {"media.internal"};
    rules.allowed_domains = {"example.com"};
    const auto result = check_url("http://media.internal/", rules);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(rule_of(result.error()), "domain_not_allowed");
}

TEST(UrlPolicyPorts, FollowTheOperatorsList) {
    url_rules rules;
    rules.allowed_ports = {8080};
    const auto widened = check_url("http://example.com:8080/", rules);
    ASSERT_TRUE(widened.has_value());
    EXPECT_EQ(widened->port, 8080);
    EXPECT_EQ(widened->url, "http://example.com:8080/");

    const auto default_port = check_url("http://example.com/", rules);
    ASSERT_FALSE(default_port.has_value());
    EXPECT_EQ(rule_of(default_port.error()), "port_not_allowed");
}

TEST(UrlPolicyRedaction, KeepsQueryOutOfTheLogForm) {
    const auto result = check_url("https://example.com/img.png?token=secret#secret", {});
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->redacted, "https://example.com:443/img.png");
    EXPECT_EQ(result->url, "https://example.com/img.png?token=secret");
}

TEST(UrlPolicyRedaction, WithholdsTheAuthorityWhenItHoldsUserinfo) {
    const auto result = check_url("http://user:secret@example.com/?q=secret", {});
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().internal_detail, "rule=userinfo url=http://<withheld>");
}

TEST(UrlPolicyRedaction, LogsHostAndPortButNeverPathOrQuery) {
    const auto result = check_url("http://localhost:80/private/path?key=secret", {});
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().internal_detail, "rule=local_name url=http://localhost:80");
}

TEST(UrlPolicyRedaction, LogsNoDataUriPayload) {
    const auto result = check_url("data:image/png;base64,c2VjcmV0", {});
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().internal_detail, "rule=scheme url=data:");
}

TEST(UrlPolicyRedaction, WithholdsControlBytesThatCouldForgeALogLine) {
    const auto result = check_url("http://a.com\r\nmedia.ok host=x/", {});
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().internal_detail, "rule=control_char url=http://<withheld>");
}

}  // namespace
}  // namespace osprey::media
