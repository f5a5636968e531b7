#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "media/media_limits.hpp"

namespace osprey::media {

// Packed 8-bit RGB, rows top to bottom, no padding: `rgb` holds exactly
// width * height * 3 bytes.
struct rgb_image {
    uint32_t width = 0;
    uint32_t height = 0;
    std::vector<uint8_t> rgb;
};

// Decodes a still WebP image (lossy or lossless; alpha is dropped) with
// libwebp, after probe_image has checked its size against the limits, so the
// pixel buffer is allocated only for an image the limits allow.
//
// Errors: those of probe_image (bytes that are not WebP among them), and
// invalid_value "The image could not be decoded: ..." when libwebp fails on
// the body. Thread-safe.
core::expected<rgb_image> decode_webp(std::string_view bytes, const media_limits& limits);

}  // namespace osprey::media
