#pragma once

#include <string_view>

namespace osprey::media {

enum class media_kind { image, audio, video };

enum class media_format {
    png,
    jpeg,
    gif,
    bmp,
    webp,
    wav,
    mp3,
    flac,
    ogg,
    mp4,
    m4a,
    webm,
    avi,
    unknown
};

// Decides the format from the first bytes alone. What a server's
// Content-Type or a data: URI claims is never trusted: a client could name
// an HTML or SVG page an image.
media_format sniff_format(std::string_view bytes);

// The kind a format carries; `unknown` has none and is always refused.
bool carries(media_format f, media_kind k);

const char* name(media_format f);
const char* name(media_kind k);

}  // namespace osprey::media
