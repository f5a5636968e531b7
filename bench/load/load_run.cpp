#include "bench/load/load_run.hpp"

#include <chrono>
#include <exception>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "bench/load/chat_body.hpp"
#include "bench/load/connection.hpp"
#include "bench/load/exchange.hpp"
#include "bench/load/host_check.hpp"

namespace osprey::bench::load {

namespace asio = boost::asio;

namespace {

constexpr std::size_t max_error_samples = 5;

// What the clients share. They all run on one thread, so they take turns without locks.
struct shared_state {
    const options& o;
    const server_target& target;
    std::size_t next = 0;
    load_outcome outcome;
};

void note_error(shared_state& s, std::string error) {
    if (s.outcome.error_samples.size() < max_error_samples) {
        s.outcome.error_samples.push_back(std::move(error));
    }
}

// One client: takes the next request number until none are left, reusing its connection.
asio::awaitable<void> run_client(shared_state& s) {
    const auto executor = co_await asio::this_coro::executor;
    connection c(executor, s.target);
    const auto timeout = std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double>(s.o.timeout_s));

    while (s.next < s.outcome.records.size()) {
        const auto index = s.next++;
        auto& record = s.outcome.records[index];
        try {
            const auto body = make_chat_body(s.o, index);
            record = co_await exchange(c, body, timeout);
        } catch (const std::exception& e) {
            // Only memory exhaustion is expected here; it fails this request, not the run.
            fail(record, std::string("internal error: ") + e.what());
            record.finished = clock_type::now();
            c.close();
        }
        if (!succeeded(record)) {
            note_error(s, "request " + std::to_string(index) + ": " + record.error);
        }
    }
    s.outcome.connected = s.outcome.connected || c.ever_connected();
}

}  // namespace

load_outcome run_load(const options& o) {
    const server_target target{{o.address, o.port}, host_header(o.address, o.port)};
    shared_state s{o, target, 0, {}};
    s.outcome.records.resize(static_cast<std::size_t>(o.requests));

    asio::io_context io(1);
    for (int i = 0; i < o.concurrency && i < o.requests; ++i) {
        // run_client catches what a request can throw; anything else stops this client, whose
        // unfinished requests then count as errors.
        asio::co_spawn(io, run_client(s), [&s](std::exception_ptr e) {
            if (e) {
                note_error(s, "a client stopped on an exception");
            }
        });
    }
    io.run();
    return std::move(s.outcome);
}

}  // namespace osprey::bench::load
