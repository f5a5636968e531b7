#include "bench/load/connection.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace osprey::bench::load {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

connection::connection(asio::any_io_executor executor, const server_target& target)
    : target_(target), stream_(std::move(executor)) {}

asio::awaitable<beast::error_code> connection::open(clock_type::time_point deadline) {
    stream_.expires_at(deadline);
    if (open_) {
        reused_ = true;
        co_return beast::error_code{};
    }

    beast::error_code ec;
    co_await stream_.async_connect(target_.endpoint, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        co_return fail_if(ec);
    }

    // The request goes out as a header write and a body write; without TCP_NODELAY the second
    // can wait for the server's delayed ACK and add tens of milliseconds to the first token.
    stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
    buffer_.clear();
    open_ = true;
    reused_ = false;
    ever_connected_ = true;
    co_return beast::error_code{};
}

void connection::set_deadline(clock_type::time_point deadline) {
    stream_.expires_at(deadline);
}

void connection::clear_deadline() {
    stream_.expires_never();
}

asio::awaitable<beast::error_code> connection::send(const std::string& body) {
    http::request<http::string_body> req{http::verb::post, "/v1/chat/completions", 11};
    req.set(http::field::host, target_.host_header);
    req.set(http::field::user_agent, "osprey-bench-load");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "text/event-stream");
    req.body() = body;
    req.prepare_payload();

    beast::error_code ec;
    co_await http::async_write(stream_, req, asio::redirect_error(asio::use_awaitable, ec));
    co_return fail_if(ec);
}

asio::awaitable<beast::error_code> connection::read_header(response_parser& parser) {
    beast::error_code ec;
    co_await http::async_read_header(stream_, buffer_, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    co_return fail_if(ec);
}

asio::awaitable<body_read> connection::read_body(response_parser& parser, std::span<char> buffer) {
    auto& body = parser.get().body();
    body.data = buffer.data();
    body.size = buffer.size();

    beast::error_code ec;
    co_await http::async_read_some(stream_, buffer_, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
    // need_buffer only says that the buffer is full, which is the point of giving one.
    if (ec == http::error::need_buffer) {
        ec = {};
    }
    co_return body_read{fail_if(ec), buffer.size() - body.size};
}

void connection::close() {
    beast::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
    open_ = false;
}

beast::error_code connection::fail_if(beast::error_code ec) {
    if (ec) {
        close();
    }
    return ec;
}

std::string describe(const boost::beast::error_code& ec) {
    if (ec == beast::error::timeout) {
        return "timed out";
    }
    return ec.message();
}

}  // namespace osprey::bench::load
