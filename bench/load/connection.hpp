#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "bench/load/stream_record.hpp"

namespace osprey::bench::load {

// The body is read piece by piece into the caller's buffer, so that each SSE event is seen the
// moment its bytes arrive, and no response is held whole.
using response_parser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

struct body_read {
    boost::beast::error_code ec;
    std::size_t bytes = 0;
};

struct server_target {
    boost::asio::ip::tcp::endpoint endpoint;
    std::string host_header;
};

// One keep-alive HTTP/1.1 connection, driven by one coroutine on the io_context's only thread.
// Each step returns its error code and never throws; after a failed step the connection is
// closed, and open() connects again. `target` must outlive the connection.
class connection {
public:
    connection(boost::asio::any_io_executor executor, const server_target& target);

    // Connects unless the connection is open. Every step from here on fails with
    // boost::beast::error::timeout once `deadline` has passed, until the deadline is changed.
    boost::asio::awaitable<boost::beast::error_code> open(clock_type::time_point deadline);

    void set_deadline(clock_type::time_point deadline);
    void clear_deadline();

    // Writes POST /v1/chat/completions with `body`, a JSON text.
    boost::asio::awaitable<boost::beast::error_code> send(const std::string& body);

    boost::asio::awaitable<boost::beast::error_code> read_header(response_parser& parser);

    // Reads the next piece of the body into `buffer` and says how many bytes it placed there,
    // which may be none (a piece of chunked framing, say).
    boost::asio::awaitable<body_read> read_body(response_parser& parser, std::span<char> buffer);

    void close();

    bool is_open() const { return open_; }
    // True when this connection is being used again, rather than freshly connected.
    bool is_reused() const { return reused_; }
    bool ever_connected() const { return ever_connected_; }

private:
    boost::beast::error_code fail_if(boost::beast::error_code ec);

    const server_target& target_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    bool open_ = false;
    bool reused_ = false;
    bool ever_connected_ = false;
};

// A short text for an I/O error, safe to print.
std::string describe(const boost::beast::error_code& ec);

}  // namespace osprey::bench::load
