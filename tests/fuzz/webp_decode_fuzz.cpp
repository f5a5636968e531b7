// The WebP decoder with the fuzz input as an upload, under the default
// limits: osprey sizes the RGB buffer from the header that probe_image read,
// then hands it to libwebp, so a header that disagrees with the bitstream
// must be refused rather than written past.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "guarded_bytes.hpp"
#include "media/webp_decoder.hpp"
#include "media_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    using namespace osprey;
    static const media::media_limits limits;
    // Ends where an unreadable page begins: a read past the input in the
    // uninstrumented library faults here, not silently.
    const fuzz::guarded_bytes guarded({reinterpret_cast<const char*>(data), size});
    const std::string_view bytes = guarded.view();

    const auto image = media::decode_webp(bytes, limits);
    if (!image) {
        fuzz::check_media_refusal(image.error(), "The image ");
        return 0;
    }
    fuzz::check_picture_size(image->width, image->height, limits);
    OSPREY_FUZZ_CHECK(image->rgb.size() == uint64_t{image->width} * image->height * 3);
    return 0;
}
