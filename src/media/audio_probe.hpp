#pragma once

#include <string_view>

#include "core/error.hpp"
#include "media/media_limits.hpp"
#include "media/media_type.hpp"

namespace osprey::media {

struct audio_info {
    media_format format = media_format::unknown;
    double seconds = 0;
};

// Reads how long a sound lasts from its headers, without decoding it: WAV
// (the data chunk's size over the format's byte rate), MP3 (every MPEG audio
// frame header counted, after any ID3v2 tags, resynchronising over garbage
// as decoders do, so that junk between frames cannot hide length from this
// count) and FLAC (STREAMINFO's sample count over its rate). A WAV or FLAC
// header is taken at its word: a small file that claims hours is refused, as
// a decoder may allocate for what the header says.
//
// Errors, all invalid_value with a message that starts "The audio ": bytes
// that are not WAV, MP3 or FLAC (Ogg and M4A say so by name), a truncated or
// garbled header, no audio at all (an MP3 without two consecutive valid
// frames), and more than `limits.max_audio_seconds`. Thread-safe.
core::expected<audio_info> probe_audio(std::string_view bytes, const media_limits& limits);

}  // namespace osprey::media
