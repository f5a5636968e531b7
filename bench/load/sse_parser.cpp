#include "bench/load/sse_parser.hpp"

namespace osprey::bench::load {

tl::expected<void, std::string> sse_parser::feed(std::string_view bytes,
                                                 std::vector<sse_event>& out) {
    if (failed_) {
        return tl::unexpected(std::string("the event stream already failed"));
    }

    std::size_t pos = 0;
    if (after_cr_ && !bytes.empty()) {
        after_cr_ = false;
        if (bytes.front() == '\n') {
            pos = 1;
        }
    }

    while (pos < bytes.size()) {
        const auto end = bytes.find_first_of("\r\n", pos);
        const auto piece = bytes.substr(pos, end == std::string_view::npos ? end : end - pos);
        if (line_.size() + piece.size() > max_bytes_) {
            failed_ = true;
            return tl::unexpected("an event stream line is longer than " +
                                  std::to_string(max_bytes_) + " bytes");
        }
        line_.append(piece);
        if (end == std::string_view::npos) {
            break;
        }

        take_line(line_, out);
        line_.clear();
        if (data_.size() > max_bytes_) {
            failed_ = true;
            return tl::unexpected("an event's data is longer than " + std::to_string(max_bytes_) +
                                  " bytes");
        }

        // A CR may be the first half of a CRLF whose LF is in the next piece of the body.
        pos = end + 1;
        if (bytes[end] == '\r') {
            if (pos == bytes.size()) {
                after_cr_ = true;
            } else if (bytes[pos] == '\n') {
                ++pos;
            }
        }
    }
    return {};
}

void sse_parser::take_line(std::string_view line, std::vector<sse_event>& out) {
    // The standard drops one UTF-8 byte order mark at the very start of the stream.
    constexpr std::string_view bom = "\xEF\xBB\xBF";
    if (first_line_ && line.substr(0, bom.size()) == bom) {
        line.remove_prefix(bom.size());
    }
    first_line_ = false;

    if (line.empty()) {
        dispatch(out);
        return;
    }
    if (line.front() == ':') {
        return;  // a comment, which servers send as keep-alives
    }

    const auto colon = line.find(':');
    const auto field = line.substr(0, colon);
    auto value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
    }

    if (field == "data") {
        data_.append(value);
        data_.push_back('\n');
    } else if (field == "event") {
        name_.assign(value);
    }
}

void sse_parser::dispatch(std::vector<sse_event>& out) {
    if (data_.empty()) {
        name_.clear();
        return;
    }
    data_.pop_back();  // the LF after the last data line
    out.push_back({std::move(name_), std::move(data_)});
    name_.clear();
    data_.clear();
}

}  // namespace osprey::bench::load
