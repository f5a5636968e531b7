#pragma once

#include <optional>
#include <string>
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>

#include "bench/load/connection.hpp"
#include "bench/load/stream_record.hpp"

namespace osprey::bench::load {

// Sends one streamed chat request on `c` and reads its response up to the header, by
// `deadline`, into a new `parser`: fills the record's started, sent and status, or its error. A
// request that fails on a reused connection before any response byte is sent once more on a new
// connection, since the server may have closed an idle keep-alive connection just then. True when a
// header came.
boost::asio::awaitable<bool> begin_exchange(connection& c, const std::string& body,
                                            clock_type::time_point deadline,
                                            std::optional<response_parser>& parser,
                                            stream_record& record);

// The whole exchange: begin_exchange, then the event stream to its end. Never throws; every
// failure is the record's error. Leaves `c` open for the next request when the server allows.
boost::asio::awaitable<stream_record> exchange(connection& c, const std::string& body,
                                               clock_type::duration timeout);

// The start of a response body, for reports on a refusal: at most `limit` bytes, read until
// the body ends, the limit is reached or the deadline passes.
boost::asio::awaitable<std::string> read_body_sample(connection& c, response_parser& parser,
                                                     std::size_t limit = 300);

}  // namespace osprey::bench::load
