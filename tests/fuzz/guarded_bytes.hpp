#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>

// A copy of some bytes that ends exactly where an unreadable page begins, so
// that reading one byte past the end faults at once. AddressSanitizer sees
// over-reads only in code it compiled; the media probes hand client bytes to
// Debian's zlib, libwebp and libav, whose reads it does not see, and a
// pointer past the end there would otherwise pass unnoticed until it reached
// unmapped memory.
namespace osprey::fuzz {

class guarded_bytes {
public:
    explicit guarded_bytes(std::string_view bytes) {
        const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        const std::size_t readable = (bytes.size() + page - 1) / page * page;
        length_ = readable + page;
        void* map =
            mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED) {
            std::abort();
        }
        base_ = static_cast<char*>(map);
        if (mprotect(base_ + readable, page, PROT_NONE) != 0) {
            std::abort();
        }
        char* start = base_ + readable - bytes.size();
        if (!bytes.empty()) {
            std::memcpy(start, bytes.data(), bytes.size());
        }
        view_ = std::string_view(start, bytes.size());
    }

    guarded_bytes(const guarded_bytes&) = delete;
    guarded_bytes& operator=(const guarded_bytes&) = delete;

    ~guarded_bytes() { munmap(base_, length_); }

    std::string_view view() const { return view_; }

private:
    char* base_ = nullptr;
    std::size_t length_ = 0;
    std::string_view view_;
};

}  // namespace osprey::fuzz
