#include "media/resolver.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>

#include "media/url_policy.hpp"

namespace osprey::media {

namespace {

core::error unresolvable(const std::string& host, const std::string& reason) {
    return media_refusal("rule=unresolvable host=" + host + " reason=" + reason);
}

class system_resolver : public resolver {
public:
    core::expected<std::vector<ip_address>> resolve(const std::string& host) override {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
        if (rc != 0) {
            return core::unexpected(unresolvable(host, gai_strerror(rc)));
        }
        std::vector<ip_address> out;
        for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
            auto a = ip_address::from_sockaddr(ai->ai_addr);
            if (a && std::find(out.begin(), out.end(), *a) == out.end()) {
                out.push_back(*a);
            }
        }
        freeaddrinfo(found);
        if (out.empty()) {
            return core::unexpected(unresolvable(host, "no IPv4 or IPv6 address"));
        }
        return out;
    }
};

}  // namespace

std::unique_ptr<resolver> make_system_resolver() {
    return std::make_unique<system_resolver>();
}

}  // namespace osprey::media
