#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

// Fixed-width reads from untrusted bytes for the header probes. Callers check
// bounds with `fits` first; the readers themselves trust their offsets.
namespace osprey::media::bytes {

// Whether `n` bytes start at `at`, without overflowing for huge values that a
// header may declare.
inline bool fits(std::string_view b, uint64_t at, uint64_t n) {
    return at <= b.size() && n <= b.size() - at;
}

inline uint32_t u8(std::string_view b, std::size_t at) {
    return static_cast<unsigned char>(b[at]);
}

inline uint32_t be16(std::string_view b, std::size_t at) {
    return u8(b, at) << 8 | u8(b, at + 1);
}

inline uint32_t be24(std::string_view b, std::size_t at) {
    return u8(b, at) << 16 | be16(b, at + 1);
}

inline uint32_t be32(std::string_view b, std::size_t at) {
    return be16(b, at) << 16 | be16(b, at + 2);
}

inline uint32_t le16(std::string_view b, std::size_t at) {
    return u8(b, at) | u8(b, at + 1) << 8;
}

inline uint32_t le32(std::string_view b, std::size_t at) {
    return le16(b, at) | le16(b, at + 2) << 16;
}

}  // namespace osprey::media::bytes
