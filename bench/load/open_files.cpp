#include "bench/load/open_files.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace osprey::bench::load {

tl::expected<void, std::string> raise_open_file_limit(uint64_t needed) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return tl::unexpected(std::string("getrlimit: ") + std::strerror(errno));
    }
    if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= needed) {
        return {};
    }
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) {
        return tl::unexpected("the hard limit on open files is " + std::to_string(limit.rlim_max) +
                              ", below the " + std::to_string(needed) + " this run needs");
    }

    limit.rlim_cur = needed;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return tl::unexpected(std::string("setrlimit: ") + std::strerror(errno));
    }
    return {};
}

}  // namespace osprey::bench::load
