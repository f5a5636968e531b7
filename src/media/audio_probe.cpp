#include "media/audio_probe.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "media/byte_order.hpp"
#include "media/media_error.hpp"

namespace osprey::media {

namespace {

using namespace bytes;

constexpr auto audio = media_kind::audio;

core::unexpected bad(std::string_view reason, std::string detail = {}) {
    return core::unexpected(undecodable(audio, reason, std::move(detail)));
}

core::expected<audio_info> timed(media_format f, double seconds, const media_limits& limits) {
    if (seconds > limits.max_audio_seconds) {
        return core::unexpected(
            refused(audio, "is " + seconds_text(seconds) + " seconds long; the limit is " +
                               seconds_text(limits.max_audio_seconds) + " seconds"));
    }
    if (seconds <= 0) {
        return bad("the file has no audio data");
    }
    return audio_info{f, seconds};
}

// The sample codings miniaudio decodes as what the header says they are.
// Compressed ones (ADPCM above all) are refused: their frame count is
// computed from fields a crafted header can set to underflow, and the
// decoder then allocates for billions of samples.
bool plain_coding(uint16_t tag, uint16_t bits) {
    switch (tag) {
    case 1: return bits == 8 || bits == 16 || bits == 24 || bits == 32;  // PCM
    case 3: return bits == 32 || bits == 64;                             // IEEE float
    case 6:
    case 7: return bits == 8;  // A-law, mu-law
    default: return false;
    }
}

// Reads the "fmt " chunk whose body starts at `at` and returns its byte
// rate, once every field agrees with the others: the length is computed from
// the byte rate, and the decoder works from the rate, channels and sample
// size, so a header whose byte rate lies about those would pass the limit
// with hours of audio.
core::expected<uint32_t> wav_byte_rate(std::string_view b, uint64_t at, uint64_t size) {
    if (size < 16 || !fits(b, at, 16)) {
        return bad("the WAV format chunk is truncated or garbled");
    }
    uint16_t tag = le16(b, at);
    const uint16_t channels = le16(b, at + 2);
    const uint32_t rate = le32(b, at + 4);
    const uint32_t byte_rate = le32(b, at + 8);
    const uint16_t block_align = le16(b, at + 12);
    const uint16_t bits = le16(b, at + 14);
    if (tag == 0xfffe && size >= 40 && fits(b, at, 40)) {
        tag = le16(b, at + 24);  // WAVE_FORMAT_EXTENSIBLE: the sub-format's tag
    }
    const std::string detail =
        "tag=" + std::to_string(tag) + " channels=" + std::to_string(channels) +
        " rate=" + std::to_string(rate) + " byte_rate=" + std::to_string(byte_rate) +
        " block_align=" + std::to_string(block_align) + " bits=" + std::to_string(bits);
    if (!plain_coding(tag, bits)) {
        return bad("the WAV file is compressed or in a sample format this server does not take",
                   detail);
    }
    if (channels == 0 || channels > 8 || rate < 1000 || rate > 384000 ||
        block_align != channels * (bits / 8) || byte_rate != uint64_t{rate} * block_align) {
        return bad("the WAV format chunk is truncated or garbled", detail);
    }
    return byte_rate;
}

// RIFF chunks after "RIFF", size, "WAVE": "fmt " gives the byte rate, "data"
// the length. Chunks are padded to an even size.
core::expected<audio_info> probe_wav(std::string_view b, const media_limits& limits) {
    uint32_t byte_rate = 0;
    for (uint64_t at = 12; fits(b, at, 8);) {
        const std::string_view id = b.substr(at, 4);
        const uint64_t size = le32(b, at + 4);
        if (id == "fmt ") {
            auto rate = wav_byte_rate(b, at + 8, size);
            if (!rate) {
                return core::unexpected(rate.error());
            }
            byte_rate = *rate;
        }
        if (id == "data") {
            if (byte_rate == 0) {
                return bad("the WAV file has no usable format chunk before its data");
            }
            // The declared size is checked against the limit: a decoder may
            // size its buffers from it. What is actually present is reported.
            const double declared = static_cast<double>(size) / byte_rate;
            const uint64_t present = std::min<uint64_t>(size, b.size() - at - 8);
            auto checked = timed(media_format::wav, declared, limits);
            if (checked) {
                checked->seconds = static_cast<double>(present) / byte_rate;
            }
            return checked;
        }
        at += 8 + size + (size & 1);
    }
    return bad("the WAV file has no data chunk");
}

// "fLaC", then metadata blocks (a flag for the last one, a type, a 24-bit
// length), STREAMINFO first; audio frames start with a 14-bit sync code.
core::expected<audio_info> probe_flac(std::string_view b, const media_limits& limits) {
    if (!fits(b, 0, 8 + 34) || (u8(b, 4) & 0x7f) != 0 || be24(b, 5) != 34) {
        return bad("the FLAC header is truncated or garbled");
    }
    const uint32_t rate = be24(b, 18) >> 4;
    const uint64_t samples = uint64_t{u8(b, 21) & 0x0f} << 32 | be32(b, 22);
    if (rate == 0 || samples == 0) {
        // A stream may leave its length out, but then only decoding it all
        // could tell how long it is.
        return bad("the FLAC header does not give its length",
                   "rate=" + std::to_string(rate) + " samples=" + std::to_string(samples));
    }
    uint64_t at = 4;
    bool last = false;
    while (!last && fits(b, at, 4)) {
        last = (u8(b, at) & 0x80) != 0;
        at += 4 + be24(b, at + 1);
    }
    if (!last || !fits(b, at, 2) || (be16(b, at) & 0xfffe) != 0xfff8) {
        return bad("the FLAC data is truncated or garbled");
    }
    return timed(media_format::flac, static_cast<double>(samples) / rate, limits);
}

struct mpeg_frame {
    uint32_t bytes = 0;
    uint32_t samples = 0;
    uint32_t rate = 0;
    uint32_t side_info = 0;  // bytes between the header and a Xing/Info tag
};

// Kilobits per second by [MPEG-1?][layer I, II, III][index]; MPEG-2 and 2.5
// share their tables. Index 0 (free format) and 15 are refused.
constexpr std::array<std::array<std::array<uint16_t, 15>, 3>, 2> mpeg_kbps = {{
    {{{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
      {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
      {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}}},
    {{{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
      {0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
      {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}}},
}};

// The MPEG audio frame header at `at`, if there is a valid one: an 11-bit
// sync, then version, layer, bit rate, sample rate, padding and channels.
std::optional<mpeg_frame> mpeg_header(std::string_view b, uint64_t at) {
    if (!fits(b, at, 4)) {
        return std::nullopt;
    }
    const uint32_t h = be32(b, at);
    const uint32_t version = (h >> 19) & 3;  // 0: MPEG-2.5, 2: MPEG-2, 3: MPEG-1
    const uint32_t layer = 4 - ((h >> 17) & 3);
    const uint32_t kbps_index = (h >> 12) & 15;
    const uint32_t rate_index = (h >> 10) & 3;
    if ((h >> 21) != 0x7ff || version == 1 || layer == 4 || kbps_index == 0 || kbps_index == 15 ||
        rate_index == 3 || (h & 3) == 2) {
        return std::nullopt;
    }
    constexpr uint32_t mpeg1_rates[] = {44100, 48000, 32000};
    const bool mpeg1 = version == 3;
    mpeg_frame f;
    f.rate = mpeg1_rates[rate_index] >> (mpeg1 ? 0 : version == 2 ? 1 : 2);
    f.samples = layer == 1 ? 384 : (layer == 3 && !mpeg1) ? 576 : 1152;
    const uint32_t bits_per_second = mpeg_kbps[mpeg1][layer - 1][kbps_index] * 1000u;
    const uint32_t padding = (h >> 9) & 1;
    f.bytes = layer == 1 ? (12 * bits_per_second / f.rate + padding) * 4
                         : f.samples / 8 * bits_per_second / f.rate + padding;
    const bool mono = ((h >> 6) & 3) == 3;
    f.side_info = mpeg1 ? (mono ? 17 : 32) : (mono ? 9 : 17);
    return f;
}

// An encoder's first frame may be a Xing/Info/VBRI tag instead of sound.
bool mpeg_tag_frame(std::string_view b, uint64_t at, const mpeg_frame& f) {
    const uint64_t tag = at + 4 + f.side_info;
    const bool xing = fits(b, tag, 4) && (b.substr(tag, 4) == "Xing" || b.substr(tag, 4) == "Info");
    return xing || (fits(b, at + 36, 4) && b.substr(at + 36, 4) == "VBRI");
}

// ID3v2 tags: "ID3", version, flags, a 28-bit size in 7-bit bytes, and a
// footer when flag 0x10 is set. Several may follow one another.
std::optional<uint64_t> skip_id3(std::string_view b) {
    uint64_t at = 0;
    while (fits(b, at, 10) && b.substr(at, 3) == "ID3") {
        const uint32_t s = be32(b, at + 6);
        if ((s & 0x80808080) != 0) {
            return std::nullopt;
        }
        const uint64_t size =
            (s & 0x7f) | (s >> 1 & 0x3f80) | (s >> 2 & 0x1fc000) | (s >> 3 & 0xfe00000);
        at += 10 + size + ((u8(b, at + 5) & 0x10) ? 10 : 0);
    }
    return at <= b.size() ? std::optional(at) : std::nullopt;
}

// Counts every frame that the next frame confirms (or that ends the data
// exactly), and steps a byte at a time over anything else, as a decoder
// resynchronising would. Each step moves forward, so this is linear.
core::expected<audio_info> probe_mp3(std::string_view b, const media_limits& limits) {
    const auto start = skip_id3(b);
    if (!start) {
        return bad("the MP3 file's ID3 tag is truncated or garbled");
    }
    double seconds = 0;
    bool first = true;
    for (uint64_t at = *start; fits(b, at, 4);) {
        const auto f = mpeg_header(b, at);
        if (!f || (at + f->bytes != b.size() && !mpeg_header(b, at + f->bytes))) {
            ++at;
            continue;
        }
        if (!(first && mpeg_tag_frame(b, at, *f))) {
            seconds += static_cast<double>(f->samples) / f->rate;
        }
        first = false;
        at += f->bytes;
        if (seconds > limits.max_audio_seconds) {
            break;  // enough to refuse it
        }
    }
    if (seconds == 0) {
        return bad("the MP3 data has no valid MPEG audio frames");
    }
    return timed(media_format::mp3, seconds, limits);
}

}  // namespace

core::expected<audio_info> probe_audio(std::string_view bytes, const media_limits& limits) {
    switch (const media_format f = sniff_format(bytes)) {
    case media_format::wav: return probe_wav(bytes, limits);
    case media_format::mp3: return probe_mp3(bytes, limits);
    case media_format::flac: return probe_flac(bytes, limits);
    case media_format::ogg:
    case media_format::m4a:
        return core::unexpected(refused(audio, std::string("is ") +
                                                   (f == media_format::ogg ? "Ogg" : "M4A") +
                                                   ", which this server does not decode; send "
                                                   "WAV, MP3 or FLAC"));
    default: return bad("its bytes are not WAV, MP3 or FLAC");
    }
}

}  // namespace osprey::media
