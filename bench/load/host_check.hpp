#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

namespace osprey::bench::load {

// The address to send load to, or nullopt when `host` is not loopback. Only "localhost",
// 127.0.0.0/8 and ::1 pass: this tool floods whatever it is pointed at, so it must never be
// pointed off the machine. "localhost" is taken as 127.0.0.1 without a name lookup, so that no
// resolver or hosts-file entry can send the load elsewhere.
std::optional<boost::asio::ip::address> loopback_address(std::string_view host);

// The Host header value for `address` and `port` ("[::1]:8080" for IPv6).
std::string host_header(const boost::asio::ip::address& address, unsigned short port);

}  // namespace osprey::bench::load
