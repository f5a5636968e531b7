#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "api/exchange.hpp"
#include "api/service.hpp"
#include "http/server.hpp"

namespace osprey::http {

class connection_exchange;

// One client connection. Reads a request, routes it, writes its response
// (whole, or as a chunked SSE stream), then reads the next. While a response
// is in progress the session keeps reading, so that it sees a client leave
// at once; a pipelined request that arrives meanwhile waits its turn.
//
// Everything runs on the socket's strand; `connection_exchange` posts onto it.
class session : public std::enable_shared_from_this<session> {
public:
    session(boost::asio::ip::tcp::socket socket, const server_options& options,
            const api::service& service);
    ~session();

    void start();

    // Drops the session's hold on its exchanges. Only once the io_context has
    // stopped: each exchange holds its session, so a request cut off by
    // shutdown would otherwise keep both alive for good.
    void abandon();

private:
    friend class connection_exchange;
    using request_parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

    struct out_item {
        enum class kind { raw, chunk, last_chunk } type;
        std::string data;
        bool ends_response = false;
    };

    void read_request();
    void on_header(boost::system::error_code ec);
    void on_request(boost::system::error_code ec);
    void arm_read_timer();
    void dispatch(boost::beast::http::request<boost::beast::http::string_body> req);
    void refuse(const core::error& e);

    // Called by connection_exchange, on the strand.
    void send_response(connection_exchange& ex, int status, std::string body,
                       const api::header_list& headers);
    void start_stream(connection_exchange& ex);
    void send_event(connection_exchange& ex, api::stream_event e);
    void end_stream(connection_exchange& ex);
    bool is_current(const connection_exchange& ex) const;

    void queue(out_item item);
    void write_next();
    void arm_write_timer();
    void on_written(boost::system::error_code ec);
    void on_response_done();
    void lose_client();
    void close();
    void linger_and_close();
    void drain(std::size_t total);

    boost::asio::ip::tcp::socket socket_;
    const server_options& options_;
    const api::service& service_;
    boost::beast::flat_buffer buffer_;
    std::optional<request_parser> parser_;
    boost::asio::steady_timer read_timer_;
    boost::asio::steady_timer write_timer_;
    bool reading_ = false;
    bool closed_ = false;
    bool close_after_response_ = false;
    bool linger_ = false;    // drain the client's leftover bytes before closing
    unsigned version_ = 11;  // HTTP version of the request being answered

    std::shared_ptr<connection_exchange> current_;
    std::deque<boost::beast::http::request<boost::beast::http::string_body>> pipelined_;
    std::deque<out_item> out_;
    std::size_t backlog_bytes_ = 0;  // bytes queued and not yet written
    bool writing_ = false;
};

}  // namespace osprey::http
