// The video probe with the fuzz input as an upload, under the default
// limits: libavformat reads the container through osprey's in-memory I/O
// context (the code under test here; ffmpeg itself is not instrumented).
// A video that passes the probe is also decoded, with fewer frames than the
// defaults allow so that one input stays quick, to reach the frame loop and
// the RGB conversion with hostile streams.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "guarded_bytes.hpp"
#include "media/video_decoder.hpp"
#include "media_checks.hpp"

namespace {

using namespace osprey;

void check_decoded(std::string_view bytes) {
    media::media_limits limits;
    limits.video_max_frames = 2;
    limits.max_video_seconds = 30;
    const auto frames = media::decode_video(bytes, limits);
    if (!frames) {
        fuzz::check_media_refusal(frames.error(), "The video ");
        return;
    }
    OSPREY_FUZZ_CHECK(frames->size() <= limits.video_max_frames);
    for (const auto& frame : *frames) {
        const auto& image = frame.image;
        fuzz::check_picture_size(image.width, image.height, limits);
        OSPREY_FUZZ_CHECK(image.rgb.size() == uint64_t{image.width} * image.height * 3);
        fuzz::check_duration(frame.seconds, limits.max_video_seconds);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static const media::media_limits limits;
    // Ends where an unreadable page begins: a read past the input in the
    // uninstrumented library faults here, not silently.
    const fuzz::guarded_bytes guarded({reinterpret_cast<const char*>(data), size});
    const std::string_view bytes = guarded.view();

    const auto info = media::probe_video(bytes, limits);
    if (!info) {
        fuzz::check_media_refusal(info.error(), "The video ");
        return 0;
    }
    fuzz::check_picture_size(info->width, info->height, limits);
    fuzz::check_duration(info->seconds, limits.max_video_seconds);
    OSPREY_FUZZ_CHECK(!info->codec.empty());
    check_decoded(bytes);
    return 0;
}
