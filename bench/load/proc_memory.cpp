#include "bench/load/proc_memory.hpp"

#include <charconv>
#include <fstream>
#include <iterator>
#include <string>

namespace osprey::bench::load {

namespace {

std::string proc_path(int pid, std::string_view file) {
    return "/proc/" + std::to_string(pid) + "/" + std::string(file);
}

}  // namespace

bool reset_peak_rss(int pid) {
    std::ofstream out(proc_path(pid, "clear_refs"));
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

std::optional<int64_t> read_status_kib(int pid, std::string_view field) {
    std::ifstream in(proc_path(pid, "status"));
    if (!in) {
        return std::nullopt;
    }
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    return parse_status_kib(text, field);
}

std::optional<int64_t> parse_status_kib(std::string_view status, std::string_view field) {
    // Lines read "VmRSS:\t   12345 kB".
    std::size_t pos = 0;
    while (pos < status.size()) {
        auto end = status.find('\n', pos);
        if (end == std::string_view::npos) {
            end = status.size();
        }
        auto line = status.substr(pos, end - pos);
        pos = end + 1;

        if (line.size() <= field.size() || line.substr(0, field.size()) != field ||
            line[field.size()] != ':') {
            continue;
        }
        line.remove_prefix(field.size() + 1);
        const auto digits = line.find_first_not_of(" \t");
        if (digits == std::string_view::npos) {
            return std::nullopt;
        }
        int64_t kib = 0;
        const auto* first = line.data() + digits;
        const auto [ptr, ec] = std::from_chars(first, line.data() + line.size(), kib);
        if (ec != std::errc() || ptr == first) {
            return std::nullopt;
        }
        return kib;
    }
    return std::nullopt;
}

}  // namespace osprey::bench::load
