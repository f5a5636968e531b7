#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace osprey::core {

// The length of the longest prefix of `s` that does not end inside a UTF-8
// character: the bytes after it are the start of a character whose remaining
// bytes have not arrived yet. Invalid bytes count as complete (they are
// replaced later by `sanitize_utf8`, never waited for).
std::size_t utf8_complete_prefix(std::string_view s);

// `s` with every invalid UTF-8 sequence replaced by U+FFFD, so that it can be
// sent as a JSON string.
std::string sanitize_utf8(std::string_view s);

}  // namespace osprey::core
