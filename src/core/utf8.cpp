#include "core/utf8.hpp"

namespace osprey::core {

namespace {

// The length a lead byte announces, or 0 for a byte that cannot start a
// character (a continuation byte, or a lead byte that no valid UTF-8 uses).
int sequence_length(unsigned char lead) {
    if (lead < 0x80) {
        return 1;
    }
    if (lead >= 0xc2 && lead <= 0xdf) {
        return 2;
    }
    if (lead >= 0xe0 && lead <= 0xef) {
        return 3;
    }
    if (lead >= 0xf0 && lead <= 0xf4) {
        return 4;
    }
    return 0;
}

bool is_continuation(unsigned char c) {
    return (c & 0xc0) == 0x80;
}

// Whether the `length` bytes at `p` form one valid character: continuation
// bytes in place, and no overlong form, surrogate or value past U+10FFFF.
bool valid_sequence(const unsigned char* p, int length) {
    for (int i = 1; i < length; ++i) {
        if (!is_continuation(p[i])) {
            return false;
        }
    }
    if (length == 3) {
        if (p[0] == 0xe0 && p[1] < 0xa0) {
            return false;
        }
        if (p[0] == 0xed && p[1] >= 0xa0) {
            return false;
        }
    }
    if (length == 4) {
        if (p[0] == 0xf0 && p[1] < 0x90) {
            return false;
        }
        if (p[0] == 0xf4 && p[1] >= 0x90) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::size_t utf8_complete_prefix(std::string_view s) {
    // A character is at most 4 bytes, so only the last 3 can be a truncated one.
    const std::size_t n = s.size();
    for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
        const auto c = static_cast<unsigned char>(s[n - back]);
        if (is_continuation(c)) {
            continue;
        }
        const int length = sequence_length(c);
        if (length > static_cast<int>(back)) {
            const auto* p = reinterpret_cast<const unsigned char*>(s.data() + n - back);
            for (std::size_t i = 1; i < back; ++i) {
                if (!is_continuation(p[i])) {
                    return n;
                }
            }
            return n - back;
        }
        return n;
    }
    return n;
}

std::string sanitize_utf8(std::string_view s) {
    static constexpr std::string_view replacement = "\xef\xbf\xbd";
    std::string out;
    out.reserve(s.size());
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const int length = sequence_length(p[i]);
        if (length > 0 && i + length <= n && valid_sequence(p + i, length)) {
            out.append(s.substr(i, length));
            i += length;
        } else {
            out += replacement;
            ++i;
        }
    }
    return out;
}

}  // namespace osprey::core
