#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/chat_request.hpp"
#include "core/error.hpp"
#include "media/fetcher.hpp"
#include "media/media_limits.hpp"
#include "media/media_type.hpp"

namespace osprey::media {

// The media kind a part of the canonical request carries.
media_kind kind_of(core::part_kind k);

struct gate_options {
    bool remote_enabled = true;  // false: --no-remote-media
    std::string media_root;      // empty: file:// and paths are refused
    std::size_t max_parts = 16;  // media parts per request
    media_limits limits;         // pixels, seconds: checked from each part's headers
};

// The one place every media part of every request passes through, after
// parsing and before the first response byte, whichever API it came in on.
// It turns each part's source into checked bytes: data: URIs decoded
// locally, file:// confined to the media root, http(s) through the guarded
// fetcher, all of a request's parts concurrently. The bytes' magic decides
// their format, which must match the part's kind; then their headers are
// checked against the limits (image pixels, audio and video seconds, video
// frame size, codec and container), so that what reaches the engine can be
// decoded within them, and what cannot is refused before the response starts.
//
// Thread-safe; `resolve` blocks, so it runs off the I/O threads.
class media_gate {
public:
    media_gate(gate_options options, const fetcher& fetch);

    // Fills `data` and `format` of every media part. Errors: media_unavailable
    // (remote or local media refused or not fetched: one generic message),
    // invalid_value (a bad data: URI, bytes that are not the part's kind,
    // content over the limits or undecodable: "The image at messages[0].
    // content[1] is 120000x120000 pixels; ..."), naming the part in `param`;
    // the log gets the detail under `request_id`. Content errors name no URL,
    // so they are the same whether the bytes came inline or from a server.
    core::expected<void> resolve(core::chat_request& request, std::string_view request_id) const;

    // What the parts were checked against, for whoever decodes them next.
    const media_limits& limits() const { return options_.limits; }

    // Whether a request has any media part at all.
    static bool has_media(const core::chat_request& request);

private:
    core::expected<std::string> load(const core::message_part& part,
                                     std::string_view request_id) const;
    core::expected<void> check_format(core::message_part& part, std::string_view request_id) const;
    core::expected<void> check_content(const core::message_part& part,
                                       std::string_view request_id) const;

    gate_options options_;
    const fetcher& fetch_;
};

}  // namespace osprey::media
