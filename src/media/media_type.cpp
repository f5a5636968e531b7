#include "media/media_type.hpp"

namespace osprey::media {

namespace {

bool starts_with(std::string_view bytes, std::string_view magic, std::size_t at = 0) {
    return bytes.size() >= at + magic.size() && bytes.substr(at, magic.size()) == magic;
}

// MPEG audio without an ID3 tag starts with an 11-bit frame sync.
bool mpeg_audio_frame(std::string_view b) {
    return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0xff &&
           (static_cast<unsigned char>(b[1]) & 0xe0) == 0xe0;
}

media_format sniff_riff(std::string_view b) {
    if (starts_with(b, "WEBP", 8)) {
        return media_format::webp;
    }
    if (starts_with(b, "WAVE", 8)) {
        return media_format::wav;
    }
    if (starts_with(b, "AVI ", 8)) {
        return media_format::avi;
    }
    return media_format::unknown;
}

// ISO base media files: "ftyp" at offset 4, then the major brand.
media_format sniff_iso(std::string_view b) {
    if (starts_with(b, "M4A ", 8) || starts_with(b, "M4B ", 8)) {
        return media_format::m4a;
    }
    return media_format::mp4;
}

}  // namespace

// A table-driven sniffer reads best as one list of magic numbers.
media_format sniff_format(std::string_view b) {
    if (starts_with(b, "\x89PNG\r\n\x1a\n")) {
        return media_format::png;
    }
    if (starts_with(b, "\xff\xd8\xff")) {
        return media_format::jpeg;
    }
    if (starts_with(b, "GIF87a") || starts_with(b, "GIF89a")) {
        return media_format::gif;
    }
    if (starts_with(b, "BM") && b.size() >= 26) {
        return media_format::bmp;
    }
    if (starts_with(b, "RIFF")) {
        return sniff_riff(b);
    }
    if (starts_with(b, "ID3") || mpeg_audio_frame(b)) {
        return media_format::mp3;
    }
    if (starts_with(b, "fLaC")) {
        return media_format::flac;
    }
    if (starts_with(b, "OggS")) {
        return media_format::ogg;
    }
    if (starts_with(b, "ftyp", 4)) {
        return sniff_iso(b);
    }
    if (starts_with(b, "\x1a\x45\xdf\xa3")) {
        return media_format::webm;
    }
    return media_format::unknown;
}

bool carries(media_format f, media_kind k) {
    switch (f) {
    case media_format::png:
    case media_format::jpeg:
    case media_format::gif:
    case media_format::bmp:
    case media_format::webp: return k == media_kind::image;
    case media_format::wav:
    case media_format::mp3:
    case media_format::flac:
    case media_format::ogg:
    case media_format::m4a: return k == media_kind::audio;
    case media_format::mp4:
    case media_format::webm:
    case media_format::avi: return k == media_kind::video;
    case media_format::unknown: return false;
    }
    return false;
}

const char* name(media_format f) {
    switch (f) {
    case media_format::png: return "png";
    case media_format::jpeg: return "jpeg";
    case media_format::gif: return "gif";
    case media_format::bmp: return "bmp";
    case media_format::webp: return "webp";
    case media_format::wav: return "wav";
    case media_format::mp3: return "mp3";
    case media_format::flac: return "flac";
    case media_format::ogg: return "ogg";
    case media_format::mp4: return "mp4";
    case media_format::m4a: return "m4a";
    case media_format::webm: return "webm";
    case media_format::avi: return "avi";
    case media_format::unknown: return "unknown";
    }
    return "unknown";
}

const char* name(media_kind k) {
    switch (k) {
    case media_kind::image: return "image";
    case media_kind::audio: return "audio";
    case media_kind::video: return "video";
    }
    return "image";
}

}  // namespace osprey::media
