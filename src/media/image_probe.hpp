#pragma once

#include <cstdint>
#include <string_view>

#include "core/error.hpp"
#include "media/media_limits.hpp"
#include "media/media_type.hpp"

namespace osprey::media {

struct image_info {
    media_format format = media_format::unknown;
    uint32_t width = 0;
    uint32_t height = 0;
};

// Reads an image's size from its headers alone: PNG (IHDR), JPEG (the first
// SOF marker), GIF (the logical screen), BMP (either row order) and WebP
// (libwebp's header parser). Nothing is allocated for the pixels, so a tiny
// file that claims 100000x100000 costs nothing to refuse. The structure
// around the header is walked too (PNG chunks, JPEG segments up to the end
// marker, GIF blocks, BMP rows, the WebP RIFF size), so that a file cut short
// is refused here rather than half-decoded later.
//
// Errors, all invalid_value with a message that starts "The image ": bytes
// that are not one of those formats, a truncated or garbled header or body, a
// zero size, a coding the decoders here do not take (arithmetic or lossless
// JPEG, compressed BMP, animated WebP), and width * height above
// `limits.max_image_pixels`. Thread-safe.
core::expected<image_info> probe_image(std::string_view bytes, const media_limits& limits);

}  // namespace osprey::media
