#include "bench/load/hold_run.hpp"

#include <array>
#include <chrono>
#include <deque>
#include <exception>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/load/chat_body.hpp"
#include "bench/load/connection.hpp"
#include "bench/load/countdown.hpp"
#include "bench/load/exchange.hpp"
#include "bench/load/host_check.hpp"
#include "bench/load/proc_memory.hpp"

namespace osprey::bench::load {

namespace asio = boost::asio;

namespace {

constexpr std::size_t max_samples = 5;

enum class stream_state { pending, open, refused, failed };

struct held_stream {
    held_stream(asio::any_io_executor executor, const server_target& target, std::string body)
        : conn(std::move(executor), target), body(std::move(body)) {}

    connection conn;
    std::string body;
    std::optional<response_parser> parser;
    stream_record record;
    stream_state state = stream_state::pending;
    std::string refusal;  // the start of a refusal's body
    bool ended = false;   // the stream stopped before the close
};

struct hold_state {
    const options& o;
    std::deque<held_stream> streams;  // a deque: streams never move once their coroutine runs
    countdown headers;
    countdown finished;
    bool closing = false;
};

// Reads and drops the body of an open stream until it ends, breaks or is closed.
asio::awaitable<void> drain(held_stream& s) {
    std::array<char, 4096> buffer;
    while (!s.parser->is_done()) {
        const auto read = co_await s.conn.read_body(*s.parser, buffer);
        if (read.ec) {
            fail(s.record, "reading the stream: " + describe(read.ec));
            co_return;
        }
    }
}

asio::awaitable<void> hold_one(held_stream& s, hold_state& h, clock_type::time_point deadline) {
    // Each co_await result goes into a variable first: GCC 12.2 miscompiled this very call as
    // `if (!co_await begin_exchange(s.conn, ...))`, and the coroutine then read its parameters
    // from the wrong slots of its frame. The whole folder keeps to that form.
    const bool began = co_await begin_exchange(s.conn, s.body, deadline, s.parser, s.record);
    if (!began) {
        s.state = stream_state::failed;
        h.headers.arrive();
        co_return;
    }
    if (s.record.status != 200) {
        s.refusal = co_await read_body_sample(s.conn, *s.parser);
        s.state = stream_state::refused;
        s.conn.close();
        h.headers.arrive();
        co_return;
    }

    s.state = stream_state::open;
    h.headers.arrive();
    s.conn.clear_deadline();  // held until the close, however long that is
    co_await drain(s);
    s.ended = !h.closing;
}

// Runs hold_one and makes sure both countdowns hear of the stream, whatever happens in it.
asio::awaitable<void> run_stream(held_stream& s, hold_state& h, clock_type::time_point deadline) {
    try {
        co_await hold_one(s, h, deadline);
    } catch (const std::exception& e) {
        fail(s.record, std::string("internal error: ") + e.what());
        if (s.state == stream_state::pending) {
            s.state = stream_state::failed;
            h.headers.arrive();
        }
        s.ended = !h.closing;
        s.conn.close();
    }
    h.finished.arrive();
}

std::optional<int64_t> read_rss(const options& o) {
    return o.server_pid ? read_status_kib(*o.server_pid, "VmRSS") : std::nullopt;
}

asio::awaitable<void> sleep_for(std::chrono::duration<double> d) {
    const auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor, std::chrono::duration_cast<clock_type::duration>(d));
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

asio::awaitable<void> hold_all(hold_state& h, hold_outcome& out) {
    out.rss_before_kib = read_rss(h.o);
    const auto start = clock_type::now();
    const auto deadline = start + std::chrono::duration_cast<clock_type::duration>(
                                      std::chrono::duration<double>(h.o.timeout_s));
    const auto executor = co_await asio::this_coro::executor;
    for (auto& s : h.streams) {
        asio::co_spawn(executor, run_stream(s, h, deadline), [](std::exception_ptr) {
            // run_stream catches everything a stream can throw.
        });
    }

    co_await h.headers.wait();
    out.headers_s = std::chrono::duration<double>(clock_type::now() - start).count();
    out.rss_held_kib = read_rss(h.o);

    co_await sleep_for(std::chrono::duration<double>(*h.o.hold_s));
    out.rss_end_kib = read_rss(h.o);

    h.closing = true;
    for (auto& s : h.streams) {
        s.conn.close();
    }
    co_await h.finished.wait();
}

void tally(const hold_state& h, hold_outcome& out) {
    for (std::size_t i = 0; i < h.streams.size(); ++i) {
        const auto& s = h.streams[i];
        out.connected = out.connected || s.conn.ever_connected();
        if (s.state == stream_state::open) {
            ++out.open;
            out.ended_during_hold += s.ended ? 1 : 0;
        } else if (s.state == stream_state::refused) {
            ++out.refused;
            ++out.refused_by_status[s.record.status];
            if (out.refusal_samples.size() < max_samples) {
                out.refusal_samples.push_back("HTTP " + std::to_string(s.record.status) + ": " +
                                              s.refusal);
            }
        } else {
            ++out.failed;
        }

        const bool errored =
            s.state == stream_state::failed || (s.ended && !s.record.error.empty());
        if (errored && out.error_samples.size() < max_samples) {
            out.error_samples.push_back("stream " + std::to_string(i) + ": " + s.record.error);
        }
    }
}

}  // namespace

hold_outcome run_hold(const options& o) {
    const server_target target{{o.address, o.port}, host_header(o.address, o.port)};
    const auto n = static_cast<std::size_t>(o.concurrency);
    asio::io_context io(1);
    hold_state h{o, {}, countdown(io.get_executor(), n), countdown(io.get_executor(), n)};
    for (std::size_t i = 0; i < n; ++i) {
        h.streams.emplace_back(io.get_executor(), target, make_chat_body(o, i));
    }

    hold_outcome out;
    out.streams = o.concurrency;
    // Should hold_all itself throw (out of memory), the streams are closed so that the run
    // still ends, and the tally says what was seen.
    asio::co_spawn(io, hold_all(h, out), [&h](std::exception_ptr e) {
        if (e) {
            h.closing = true;
            for (auto& s : h.streams) {
                s.conn.close();
            }
        }
    });
    io.run();

    tally(h, out);
    return out;
}

}  // namespace osprey::bench::load
