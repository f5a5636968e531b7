#include "http/server.hpp"

#include <boost/asio/strand.hpp>

#include "core/log.hpp"
#include "http/session.hpp"

namespace osprey::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto l = core::log::get("http");
    return l;
}

core::error bind_error(const std::string& what, const boost::system::error_code& ec) {
    core::error e = core::make_error(core::error_code::invalid_value, "cannot listen: " + what);
    e.internal_detail = ec.message();
    return e;
}

}  // namespace

server::server(asio::io_context& io, server_options options, const api::service& service)
    : io_(io), options_(std::move(options)), service_(service), acceptor_(io), backoff_(io) {}

server::~server() {
    for (auto& weak : sessions_) {
        if (auto s = weak.lock()) {
            s->abandon();
        }
    }
}

core::expected<uint16_t> server::listen() {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(options_.host, ec);
    if (ec) {
        return core::unexpected(bind_error("bad host address " + options_.host, ec));
    }
    const tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor_.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return core::unexpected(bind_error(
            options_.host + ":" + std::to_string(options_.port) + " is not available", ec));
    }
    const uint16_t port = acceptor_.local_endpoint().port();
    core::log::info(*logger(), "http.listening", {{"host", options_.host}, {"port", port}});
    accept_next();
    return port;
}

void server::stop_accepting() {
    asio::post(acceptor_.get_executor(), [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        backoff_.cancel();
    });
}

void server::accept_next() {
    acceptor_.async_accept(asio::make_strand(io_),
                           [this](boost::system::error_code ec, tcp::socket socket) {
                               on_accept(ec, std::move(socket));
                           });
}

void server::on_accept(boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
        return;
    }
    if (ec) {
        // Out of descriptors, usually. Retrying at once would spin and flood
        // the log; a pause lets connections close meanwhile.
        core::log::warn(*logger(), "http.accept_failed", {{"reason", ec.message()}});
        backoff_.expires_after(std::chrono::milliseconds(100));
        backoff_.async_wait([this](boost::system::error_code wait_ec) {
            if (!wait_ec) {
                accept_next();
            }
        });
        return;
    }
    // Each SSE event is one small write. With Nagle's algorithm a write
    // waits for the ACK of the one before, which the client delays by up to
    // 40 ms: the first token of a stream would arrive that much late.
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto s = std::make_shared<session>(std::move(socket), options_, service_);
    std::erase_if(sessions_, [](const std::weak_ptr<session>& w) { return w.expired(); });
    sessions_.push_back(s);
    s->start();
    accept_next();
}

}  // namespace osprey::http
