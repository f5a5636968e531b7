#include "bench/load/countdown.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace osprey::bench::load {

namespace asio = boost::asio;

countdown::countdown(asio::any_io_executor executor, std::size_t count)
    : timer_(std::move(executor), asio::steady_timer::time_point::max()), left_(count) {}

void countdown::arrive() {
    if (left_ > 0 && --left_ == 0) {
        timer_.cancel();
    }
}

asio::awaitable<void> countdown::wait() {
    // The timer never expires by itself; the last arrival cancels it, which ends the wait.
    while (left_ > 0) {
        boost::system::error_code ignored;
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
}

}  // namespace osprey::bench::load
