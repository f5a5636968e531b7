#pragma once

#include <string>

#include "api/json_fields.hpp"
#include "core/chat_request.hpp"

namespace osprey::api::openai {

// Reads a media content part of a chat message: `image_url` ({url, detail}),
// `input_audio` ({data, format}), `audio_url` and `video_url` ({url}). The
// media gate fetches and checks what they name. Returns false for a type
// that is not a media part; failures are recorded in `r`.
bool read_media_part(object_reader& r, const std::string& type, core::message& out);

}  // namespace osprey::api::openai
