#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace osprey::engine {

// One picture or sound for the model, already fetched and checked by the
// media gate. Either `file` holds an encoded file that llama.cpp's mtmd
// decodes itself (PNG, JPEG, GIF, BMP; WAV, MP3, FLAC), or `rgb` holds pixels
// decoded elsewhere (WebP, video frames).
struct media_input {
    enum class type { image, audio };

    type kind = type::image;
    std::string file;
    std::vector<uint8_t> rgb;  // width * height * 3 bytes, row by row
    uint32_t width = 0;        // images: the decoded size, known from the header
    uint32_t height = 0;       // for files; 0 when unknown
    std::string param;         // where the part sits in the request, for errors
};

// What one media part of a request becomes in the prompt: usually a single
// media input; for a video, a timestamp text before each sampled frame.
struct media_segment {
    std::string text;
    std::optional<media_input> media;
};

using media_expansion = std::vector<media_segment>;

}  // namespace osprey::engine
