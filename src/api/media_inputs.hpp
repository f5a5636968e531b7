#pragma once

#include <vector>

#include "core/chat_request.hpp"
#include "core/error.hpp"
#include "engine/media_input.hpp"
#include "media/media_limits.hpp"

namespace osprey::api {

// Turns every media part of a request, which the media gate has fetched and
// checked, into what the engine feeds the model, in the order the parts
// appear: images and audio as they are (the projector decodes them), WebP
// decoded to pixels, video sampled into frames each preceded by its time.
// Runs on a blocking worker: decoding a video takes a while.
//
// Errors: invalid_value naming the part when its bytes cannot be decoded or
// are over `limits`.
core::expected<std::vector<engine::media_expansion>> expand_media(
    const core::chat_request& request, const media::media_limits& limits);

}  // namespace osprey::api
