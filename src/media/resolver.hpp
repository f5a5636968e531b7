#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "media/ip_address.hpp"

namespace osprey::media {

// Turns a host name into addresses. Blocking: called on the media gate's
// worker threads, never on the I/O threads. The fetcher asks once per hop
// and pins the connection to exactly the addresses it was given, so an
// answer that changes between lookups (DNS rebinding) changes nothing.
class resolver {
public:
    virtual ~resolver() = default;

    // Errors: media_unavailable (rule=unresolvable) when the name has no
    // address; the detail says why, for the log.
    virtual core::expected<std::vector<ip_address>> resolve(const std::string& host) = 0;
};

// Resolves with getaddrinfo: the system's resolver configuration,
// /etc/hosts included.
std::unique_ptr<resolver> make_system_resolver();

}  // namespace osprey::media
