#include "bench/load/host_check.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace osprey::bench::load {

namespace {

bool is_localhost_name(std::string_view host) {
    constexpr std::string_view name = "localhost";
    return std::equal(host.begin(), host.end(), name.begin(), name.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
    });
}

}  // namespace

std::optional<boost::asio::ip::address> loopback_address(std::string_view host) {
    if (is_localhost_name(host)) {
        return boost::asio::ip::make_address_v4("127.0.0.1");
    }

    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(host), ec);
    if (ec) {
        return std::nullopt;
    }

    // Asio's v4 test takes all of 127/8; its v6 test takes ::1 alone, not the v4-mapped
    // ::ffff:127.0.0.1, so that IPv6 means exactly ::1 here.
    if (address.is_loopback()) {
        return address;
    }
    return std::nullopt;
}

std::string host_header(const boost::asio::ip::address& address, unsigned short port) {
    const auto text = address.to_string();
    const auto port_text = std::to_string(port);
    return address.is_v6() ? "[" + text + "]:" + port_text : text + ":" + port_text;
}

}  // namespace osprey::bench::load
