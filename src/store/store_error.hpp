#pragma once

#include <string>

#include "core/error.hpp"

// The public messages that both backends give, and the one way they build an
// error: what went wrong, in words a client may see, and the cause for the log.
namespace osprey::store {

inline constexpr const char* open_failed = "The response store could not be opened.";
inline constexpr const char* put_failed = "The response could not be stored.";
inline constexpr const char* get_failed = "The stored response could not be read.";
inline constexpr const char* remove_failed = "The stored response could not be deleted.";

// `detail` goes to the log only: it may name paths and hosts, never a password.
inline core::error store_error(core::error_code code, const char* public_message,
                               std::string detail) {
    auto e = core::make_error(code, public_message);
    e.internal_detail = std::move(detail);
    return e;
}

}  // namespace osprey::store
