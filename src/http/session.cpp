#include "http/session.hpp"

#include <malloc.h>

#include <iterator>
#include <optional>
#include <sstream>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>

#include "core/log.hpp"
#include "core/request_id.hpp"
#include "http/connection_exchange.hpp"
#include "http/router.hpp"
#include "http/sse.hpp"

namespace osprey::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

// No route osprey serves needs a long target or many headers; a request with
// either is refused before any handler sees it.
constexpr std::size_t max_target_bytes = 8192;
constexpr std::size_t max_header_fields = 100;
constexpr std::size_t large_body_bytes = 1u << 20;

std::optional<core::error> check_shape(const bhttp::request<bhttp::string_body>& req) {
    if (req.target().size() > max_target_bytes) {
        return core::make_error(
            core::error_code::uri_too_long,
            "The request URL is longer than " + std::to_string(max_target_bytes) + " bytes.");
    }
    const auto fields = static_cast<std::size_t>(std::distance(req.begin(), req.end()));
    if (fields > max_header_fields) {
        return core::make_error(
            core::error_code::headers_too_large,
            "The request has more than " + std::to_string(max_header_fields) + " header fields.");
    }
    return std::nullopt;
}

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto l = core::log::get("http");
    return l;
}

// How long, and how many bytes, a refused request's remaining body is read
// and thrown away before the connection closes, so that the client reads
// the error instead of a reset.
constexpr auto linger_time = std::chrono::seconds(2);

// A stream whose reader falls this far behind is cut off, so that one slow
// client cannot make the server hold an unbounded backlog for it.
constexpr std::size_t max_backlog_bytes = 8u << 20;

// Requests read ahead of their turn on one connection; past this, reading
// waits, and a client that leaves meanwhile is noticed only at the next write.
constexpr std::size_t max_pipelined = 8;
constexpr std::size_t linger_bytes = 64u << 20;

// A client that closed its end, or whose connection broke.
bool client_gone(const boost::system::error_code& ec) {
    return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
           ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::operation_aborted;
}

std::string strip_query(beast::string_view target) {
    const auto question = target.find('?');
    return std::string(target.substr(0, question));
}

// Under both names the SDKs read it: OpenAI's x-request-id, Anthropic's request-id.
template <class Response>
void set_request_id(Response& res, const std::string& id) {
    res.set("x-request-id", id);
    res.set("request-id", id);
}

}  // namespace

session::session(tcp::socket socket, const server_options& options, const api::service& service)
    : socket_(std::move(socket)),
      options_(options),
      service_(service),
      read_timer_(socket_.get_executor()),
      write_timer_(socket_.get_executor()) {}

session::~session() = default;

void session::start() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->read_request(); });
}

void session::read_request() {
    if (closed_ || reading_) {
        return;
    }
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
    reading_ = true;
    if (!current_) {
        arm_read_timer();
    }
    bhttp::async_read_header(socket_, buffer_, *parser_,
                             [self = shared_from_this()](boost::system::error_code ec,
                                                         std::size_t) { self->on_header(ec); });
}

void session::on_header(boost::system::error_code ec) {
    if (ec || closed_) {
        on_request(ec);
        return;
    }
    // curl and others wait for this before sending a large body.
    const auto expect = parser_->get()[bhttp::field::expect];
    if (beast::iequals(expect, "100-continue") && parser_->get().version() >= 11) {
        queue({out_item::kind::raw, "HTTP/1.1 100 Continue\r\n\r\n"});
    }
    bhttp::async_read(socket_, buffer_, *parser_,
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                          self->on_request(ec);
                      });
}

void session::arm_read_timer() {
    read_timer_.expires_after(options_.read_timeout);
    read_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self || !self->reading_ || self->current_) {
            return;
        }
        core::log::debug(*logger(), "http.read_timeout");
        self->close();
    });
}

void session::on_request(boost::system::error_code ec) {
    reading_ = false;
    read_timer_.cancel();
    if (closed_) {
        return;
    }
    if (ec) {
        if (client_gone(ec)) {
            lose_client();
        } else if (ec == bhttp::error::body_limit) {
            refuse(core::make_error(core::error_code::payload_too_large,
                                    "The request body is larger than this server accepts (" +
                                        std::to_string(options_.max_body_bytes) + " bytes)."));
        } else if (ec == bhttp::error::header_limit) {
            refuse(core::make_error(core::error_code::headers_too_large,
                                    "The request headers are too large."));
        } else {
            refuse(core::make_error(core::error_code::invalid_value,
                                    "The request is not valid HTTP/1.1."));
        }
        return;
    }
    auto req = parser_->release();
    if (auto refused = check_shape(req)) {
        refuse(*refused);
        return;
    }
    if (current_) {
        // Pipelined: answered once the responses before it are out. Reading
        // goes on, up to a few requests, so that a client that leaves is
        // still noticed at once.
        pipelined_.push_back(std::move(req));
        if (pipelined_.size() < max_pipelined) {
            read_request();
        }
        return;
    }
    dispatch(std::move(req));
}

void session::abandon() {
    current_.reset();
    pipelined_.clear();
}

void session::dispatch(bhttp::request<bhttp::string_body> req) {
    const std::string path = strip_query(req.target());
    auto ex = std::make_shared<connection_exchange>(shared_from_this(), core::make_request_id(),
                                                    std::string(req.method_string()), path);
    current_ = ex;
    version_ = req.version();
    close_after_response_ = !req.keep_alive();
    const bool large = req.body().size() > large_body_bytes;
    route_request(service_, options_, req, path, ex);
    if (large) {
        // glibc keeps what a large body and its parsed JSON freed in its
        // arenas; handing it back keeps a burst of large requests from
        // raising the server's memory for good.
        req = {};
        malloc_trim(0);
    }
    // Keep reading: an EOF now means the client left, and the next request
    // of a keep-alive connection starts arriving here.
    read_request();
}

void session::refuse(const core::error& e) {
    close_after_response_ = true;
    linger_ = true;
    if (current_) {
        // A response is still going out; this request cannot be answered in
        // order, so the connection ends after it.
        return;
    }
    const std::string path = parser_ ? strip_query(parser_->get().target()) : std::string("/");
    auto ex = std::make_shared<connection_exchange>(shared_from_this(), core::make_request_id(),
                                                    "-", path);
    current_ = ex;
    version_ = 11;
    service_.respond_error(*ex, path, ex->request_id(), e);
}

bool session::is_current(const connection_exchange& ex) const {
    return !closed_ && current_.get() == &ex && !ex.finished;
}

void session::send_response(connection_exchange& ex, int status, std::string body,
                            const api::header_list& headers) {
    if (!is_current(ex) || ex.streaming) {
        return;
    }
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), version_};
    res.set(bhttp::field::server, "osprey");
    res.set(bhttp::field::content_type, "application/json");
    set_request_id(res, ex.request_id());
    for (const auto& [name, value] : ex.cors_headers) {
        res.set(name, value);
    }
    for (const auto& [name, value] : headers) {
        res.set(name, value);
    }
    res.keep_alive(!close_after_response_);
    res.body() = std::move(body);
    res.prepare_payload();
    std::ostringstream out;
    out << res;
    ex.finished = true;
    ex.status = status;
    queue({out_item::kind::raw, out.str(), true});
}

void session::start_stream(connection_exchange& ex) {
    if (!is_current(ex) || ex.streaming) {
        return;
    }
    bhttp::response<bhttp::empty_body> res{bhttp::status::ok, version_};
    res.set(bhttp::field::server, "osprey");
    res.set(bhttp::field::content_type, "text/event-stream");
    res.set(bhttp::field::cache_control, "no-cache");
    set_request_id(res, ex.request_id());
    // Tells reverse proxies not to hold events back.
    res.set("x-accel-buffering", "no");
    for (const auto& [name, value] : ex.cors_headers) {
        res.set(name, value);
    }
    if (version_ >= 11) {
        res.chunked(true);
    } else {
        close_after_response_ = true;  // HTTP/1.0: the end of the body is the close
    }
    res.keep_alive(!close_after_response_);
    std::ostringstream out;
    out << res.base();
    ex.streaming = true;
    ex.status = 200;
    queue({out_item::kind::raw, out.str()});
}

void session::send_event(connection_exchange& ex, api::stream_event e) {
    if (!is_current(ex) || !ex.streaming) {
        return;
    }
    // Only a stream can grow without end; a whole response is written as
    // one piece, however large.
    if (backlog_bytes_ + e.data.size() > max_backlog_bytes) {
        core::log::warn(*logger(), "http.slow_reader",
                        {{"req", ex.request_id()}, {"backlog_bytes", backlog_bytes_}});
        lose_client();
        return;
    }
    queue(
        {version_ >= 11 ? out_item::kind::chunk : out_item::kind::raw, sse_event(e.data, e.name)});
}

void session::end_stream(connection_exchange& ex) {
    if (!is_current(ex) || !ex.streaming) {
        return;
    }
    ex.finished = true;
    queue({version_ >= 11 ? out_item::kind::last_chunk : out_item::kind::raw, "", true});
}

void session::queue(out_item item) {
    backlog_bytes_ += item.data.size();
    out_.push_back(std::move(item));
    write_next();
}

void session::write_next() {
    if (writing_ || out_.empty() || closed_) {
        return;
    }
    writing_ = true;
    arm_write_timer();
    auto done = [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        self->on_written(ec);
    };
    const out_item& item = out_.front();
    switch (item.type) {
    case out_item::kind::raw:
        asio::async_write(socket_, asio::buffer(item.data), std::move(done));
        break;
    case out_item::kind::chunk:
        asio::async_write(socket_, bhttp::make_chunk(asio::buffer(item.data)), std::move(done));
        break;
    case out_item::kind::last_chunk:
        asio::async_write(socket_, bhttp::make_chunk_last(), std::move(done));
        break;
    }
}

// A client that stops reading must not hold its connection and its queued
// response for ever: one write may wait as long as a request may take.
void session::arm_write_timer() {
    write_timer_.expires_after(options_.read_timeout);
    write_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self || !self->writing_) {
            return;
        }
        core::log::warn(*logger(), "http.write_timeout",
                        {{"req", self->current_ ? self->current_->request_id() : "-"}});
        if (self->current_) {
            self->current_->log_summary(499);
        }
        self->close();
    });
}

void session::on_written(boost::system::error_code ec) {
    writing_ = false;
    write_timer_.cancel();
    // The connection may have been closed (and the queue emptied) after this
    // write finished but before its completion ran.
    if (closed_) {
        return;
    }
    if (ec) {
        lose_client();
        return;
    }
    const bool last = out_.front().ends_response;
    backlog_bytes_ -= out_.front().data.size();
    out_.pop_front();
    if (last) {
        on_response_done();
    }
    write_next();
}

void session::on_response_done() {
    if (current_) {
        current_->log_summary(current_->status);
        current_.reset();
    }
    if (close_after_response_) {
        if (linger_) {
            linger_and_close();
        } else {
            close();
        }
        return;
    }
    if (!pipelined_.empty()) {
        auto req = std::move(pipelined_.front());
        pipelined_.pop_front();
        dispatch(std::move(req));
        return;
    }
    if (reading_) {
        arm_read_timer();  // the read in flight now waits for an idle client
    } else {
        read_request();
    }
}

// The client went away, or its connection broke. A response in progress
// stops: its generation is cancelled through the disconnect callback.
void session::lose_client() {
    if (current_ && !current_->finished) {
        current_->log_summary(499);  // nginx's "client closed request"
    }
    close();
}

void session::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    read_timer_.cancel();
    write_timer_.cancel();
    out_.clear();
    backlog_bytes_ = 0;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    if (current_) {
        current_->notify_disconnect();
        current_.reset();
    }
    pipelined_.clear();
}

// Half-closes, then reads and drops what the client still sends (the rest
// of a refused body) for a bounded time, so that it sees the response.
void session::linger_and_close() {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    read_timer_.expires_after(linger_time);
    read_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) {
            self->close();
        }
    });
    drain(0);
}

void session::drain(std::size_t total) {
    if (closed_ || total > linger_bytes) {
        close();
        return;
    }
    auto space = buffer_.prepare(16u << 10);
    socket_.async_read_some(
        space, [self = shared_from_this(), total](boost::system::error_code ec, std::size_t n) {
            self->buffer_.consume(self->buffer_.size());
            if (ec) {
                self->close();
                return;
            }
            self->drain(total + n);
        });
}

}  // namespace osprey::http
