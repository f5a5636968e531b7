// The image header probe with the fuzz input as an upload, under the default
// limits: PNG, JPEG, GIF, BMP and WebP headers and the structure around them
// are walked from client bytes before anything is decoded, so every read
// must stay inside the input, and every size that passes must be within the
// limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "guarded_bytes.hpp"
#include "media/image_probe.hpp"
#include "media_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    using namespace osprey;
    static const media::media_limits limits;
    // Ends where an unreadable page begins: a read past the input in the
    // uninstrumented library faults here, not silently.
    const fuzz::guarded_bytes guarded({reinterpret_cast<const char*>(data), size});
    const std::string_view bytes = guarded.view();

    const auto info = media::probe_image(bytes, limits);
    if (!info) {
        fuzz::check_media_refusal(info.error(), "The image ");
        return 0;
    }
    fuzz::check_picture_size(info->width, info->height, limits);
    OSPREY_FUZZ_CHECK(info->format == media::sniff_format(bytes));
    OSPREY_FUZZ_CHECK(media::carries(info->format, media::media_kind::image));
    return 0;
}
