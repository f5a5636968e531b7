#pragma once

#include <cstddef>
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

namespace osprey::bench::load {

// Lets one coroutine wait until `count` others have each arrived once. Single-threaded: every
// call runs on the io_context's only thread, so the count needs no lock.
class countdown {
public:
    countdown(boost::asio::any_io_executor executor, std::size_t count);

    void arrive();
    // Returns at once when all have arrived already.
    boost::asio::awaitable<void> wait();
    std::size_t left() const { return left_; }

private:
    boost::asio::steady_timer timer_;
    std::size_t left_;
};

}  // namespace osprey::bench::load
