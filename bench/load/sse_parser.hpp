#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace osprey::bench::load {

// One dispatched Server-Sent Event: its "event" name (empty when unnamed) and its "data"
// lines joined with LF.
struct sse_event {
    std::string name;
    std::string data;
};

// Splits a text/event-stream body into events, as the WHATWG HTML standard's "Parsing an event
// stream" says: lines end in CRLF, LF or CR; a blank line dispatches the event; "data" fields
// are joined with LF; comments and the "id" and "retry" fields are skipped; an event without
// data is dropped. The body may arrive cut anywhere, even between a CR and its LF. One parser
// per response; not thread-safe.
class sse_parser {
public:
    // A line or an event's data longer than this fails the stream, so that a response without
    // line breaks cannot take unbounded memory.
    static constexpr std::size_t default_max_bytes = 16u << 20;

    explicit sse_parser(std::size_t max_bytes = default_max_bytes) : max_bytes_(max_bytes) {}

    // Appends the events that `bytes` completes to `out`. Fails, and stays failed, once a line
    // or an event grows past the limit; the error text is safe to print.
    tl::expected<void, std::string> feed(std::string_view bytes, std::vector<sse_event>& out);

private:
    void take_line(std::string_view line, std::vector<sse_event>& out);
    void dispatch(std::vector<sse_event>& out);

    std::size_t max_bytes_;
    std::string line_;
    std::string name_;
    std::string data_;
    bool after_cr_ = false;  // the last byte was a CR, so an LF next is part of that line break
    bool first_line_ = true;
    bool failed_ = false;
};

}  // namespace osprey::bench::load
