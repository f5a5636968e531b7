#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api/service.hpp"
#include "core/error.hpp"

namespace osprey::http {

class session;

struct server_options {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    std::size_t max_body_bytes = 32u << 20;
    std::size_t max_header_bytes = 64u << 10;
    // A request's headers and body must arrive within this time, and an idle
    // keep-alive connection is closed after it.
    std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};
    std::string api_key;  // empty: no authentication
    // Origins whose web pages may call the API from a browser
    // ("https://app.example"), or "*" for any. Empty: CORS is off, and
    // browsers keep every response from every page.
    std::vector<std::string> cors_origins;
};

// Accepts connections and hands each to a session. Asynchronous throughout:
// an idle or slow client holds a socket and a little memory, never a thread.
// All work runs on the io_context's threads; each connection on its strand.
class server {
public:
    server(boost::asio::io_context& io, server_options options, const api::service& service);
    ~server();

    // Binds and starts accepting. Returns the bound port (useful with port 0).
    // Errors: invalid_value when the address is bad or cannot be bound.
    core::expected<uint16_t> listen();

    // Stops accepting new connections; open ones finish their work.
    void stop_accepting();

private:
    void accept_next();
    void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

    boost::asio::io_context& io_;
    server_options options_;
    const api::service& service_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer backoff_;  // between failed accepts
    // Every session started, for ~server to abandon; touched by the accept
    // handlers (one at a time) and by ~server after the io_context stopped.
    std::vector<std::weak_ptr<session>> sessions_;
};

}  // namespace osprey::http
