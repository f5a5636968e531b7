#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "fuzz_check.hpp"
#include "media/media_limits.hpp"

// What every media probe's outcome must satisfy, shared by the media targets.
namespace osprey::fuzz {

// A refusal of client bytes is a 400 whose public message names the kind of
// media ("The image ...") and nothing of the bytes' own.
inline void check_media_refusal(const core::error& e, const std::string& prefix) {
    OSPREY_FUZZ_CHECK(core::http_status(e.code) == 400);
    OSPREY_FUZZ_CHECK(e.public_message.rfind(prefix, 0) == 0);
}

// A picture that passed is one the limits allow: nothing has been allocated
// for its pixels yet, and what will be must stay bounded.
inline void check_picture_size(uint64_t width, uint64_t height, const media::media_limits& l) {
    OSPREY_FUZZ_CHECK(width > 0 && height > 0);
    OSPREY_FUZZ_CHECK(width * height <= l.max_image_pixels);
}

inline void check_duration(double seconds, double limit) {
    OSPREY_FUZZ_CHECK(std::isfinite(seconds));
    OSPREY_FUZZ_CHECK(seconds >= 0 && seconds <= limit);
}

}  // namespace osprey::fuzz
