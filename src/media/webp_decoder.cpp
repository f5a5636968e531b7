#include "media/webp_decoder.hpp"

#include <webp/decode.h>

#include <climits>

#include "media/image_probe.hpp"
#include "media/media_error.hpp"

namespace osprey::media {

core::expected<rgb_image> decode_webp(std::string_view bytes, const media_limits& limits) {
    auto info = probe_image(bytes, limits);
    if (!info) {
        return core::unexpected(info.error());
    }
    if (info->format != media_format::webp) {
        return core::unexpected(undecodable(media_kind::image, "its bytes are not WebP",
                                            std::string("format=") + name(info->format)));
    }

    const std::size_t stride = std::size_t{info->width} * 3;
    if (stride > INT_MAX) {
        // libwebp takes the row stride as an int.
        return core::unexpected(refused(media_kind::image, "is too wide to decode"));
    }
    rgb_image out;
    out.width = info->width;
    out.height = info->height;
    out.rgb.resize(stride * out.height);
    // Decoding into our own buffer leaves nothing of libwebp's to free.
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    if (WebPDecodeRGBInto(data, bytes.size(), out.rgb.data(), out.rgb.size(),
                          static_cast<int>(stride)) == nullptr) {
        return core::unexpected(
            undecodable(media_kind::image, "the WebP data is truncated or garbled"));
    }
    return out;
}

}  // namespace osprey::media
