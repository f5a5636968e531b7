#include "bench/load/exchange.hpp"

#include <array>
#include <limits>
#include <optional>
#include <vector>

#include <boost/beast/http/error.hpp>

#include "bench/load/sse_parser.hpp"

namespace osprey::bench::load {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// Errors that mean the server closed a kept-alive connection before reading the request.
bool is_stale_connection(const beast::error_code& ec) {
    return ec == beast::http::error::end_of_stream || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::eof;
}

asio::awaitable<beast::error_code> try_begin(connection& c, const std::string& body,
                                             clock_type::time_point deadline,
                                             response_parser& parser, stream_record& record) {
    const auto opened = co_await c.open(deadline);
    if (opened) {
        fail(record, "connect: " + describe(opened));
        co_return opened;
    }

    record.started = clock_type::now();
    const auto sent = co_await c.send(body);
    if (sent) {
        fail(record, "write: " + describe(sent));
        co_return sent;
    }

    record.sent = clock_type::now();
    const auto header = co_await c.read_header(parser);
    if (header) {
        fail(record, "reading the response header: " + describe(header));
        co_return header;
    }
    record.status = static_cast<int>(parser.get().result_int());
    co_return beast::error_code{};
}

// Beast's parsers serve one message each and cannot be reset, so each attempt takes a new one.
response_parser& new_parser(std::optional<response_parser>& parser) {
    parser.emplace();
    // The stream is as long as the generation; the default limit (8 MB) is not ours to impose.
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    return *parser;
}

// Feeds the body to an SSE parser and the parsed events to the record until the body ends.
asio::awaitable<void> read_events(connection& c, response_parser& parser, stream_record& record) {
    sse_parser sse;
    std::vector<sse_event> events;
    std::array<char, 16384> buffer;

    while (!parser.is_done()) {
        const auto read = co_await c.read_body(parser, buffer);
        if (read.ec) {
            fail(record, "reading the stream: " + describe(read.ec));
            co_return;
        }

        const auto now = clock_type::now();
        events.clear();
        if (auto fed = sse.feed({buffer.data(), read.bytes}, events); !fed) {
            fail(record, fed.error());
            c.close();
            co_return;
        }
        for (const auto& e : events) {
            apply_event(e, now, record);
        }
    }
}

}  // namespace

asio::awaitable<bool> begin_exchange(connection& c, const std::string& body,
                                     clock_type::time_point deadline,
                                     std::optional<response_parser>& parser,
                                     stream_record& record) {
    const bool reused = c.is_open();
    auto ec = co_await try_begin(c, body, deadline, new_parser(parser), record);
    if (ec && reused && is_stale_connection(ec)) {
        record = stream_record{};
        ec = co_await try_begin(c, body, deadline, new_parser(parser), record);
    }
    co_return !ec;
}

asio::awaitable<stream_record> exchange(connection& c, const std::string& body,
                                        clock_type::duration timeout) {
    stream_record record;
    std::optional<response_parser> parser;
    const bool began =
        co_await begin_exchange(c, body, clock_type::now() + timeout, parser, record);
    if (!began) {
        record.finished = clock_type::now();
        co_return record;
    }

    if (record.status != 200) {
        const auto sample = co_await read_body_sample(c, *parser);
        fail(record, "HTTP " + std::to_string(record.status) + ": " + sample);
        c.close();
    } else {
        co_await read_events(c, *parser, record);
        if (record.error.empty() && !record.done) {
            fail(record, "the stream ended without data: [DONE]");
        }
    }

    // A connection that failed, or that the server means to close, is not used again.
    if (!record.error.empty() || !parser->keep_alive()) {
        c.close();
    }
    record.finished = clock_type::now();
    co_return record;
}

asio::awaitable<std::string> read_body_sample(connection& c, response_parser& parser,
                                              std::size_t limit) {
    std::string sample;
    std::array<char, 1024> buffer;
    while (!parser.is_done() && sample.size() < limit) {
        const auto read = co_await c.read_body(parser, buffer);
        if (read.ec) {
            break;
        }
        sample.append(buffer.data(), read.bytes);
    }
    co_return clip(sample, limit);
}

}  // namespace osprey::bench::load
