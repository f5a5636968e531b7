// The audio header probe with the fuzz input as an upload, under the default
// limits: WAV chunks, MPEG frame headers (with ID3v2 tags and garbage between
// frames) and FLAC metadata blocks are walked from client bytes, so every
// read must stay inside the input, and every length that passes must be
// finite and within the limit.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "media/audio_probe.hpp"
#include "media_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    using namespace osprey;
    static const media::media_limits limits;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);

    const auto info = media::probe_audio(bytes, limits);
    if (!info) {
        fuzz::check_media_refusal(info.error(), "The audio ");
        return 0;
    }
    fuzz::check_duration(info->seconds, limits.max_audio_seconds);
    OSPREY_FUZZ_CHECK(media::carries(info->format, media::media_kind::audio));
    return 0;
}
