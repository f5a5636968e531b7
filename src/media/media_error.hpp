#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "media/media_type.hpp"

// Errors about the content of a media part. The bytes are the client's own
// (or what a URL it named serves), so the public message may say what is
// wrong with them; it never says where they came from.
//
// Every public message starts with "The image ", "The audio " or "The video "
// so that `locate` can say which part of a request it concerns.
namespace osprey::media {

// invalid_value: "The <kind> could not be decoded: <reason>." `detail` is for
// the log alone (a library's return code, an offset).
core::error undecodable(media_kind kind, std::string_view reason, std::string detail = {});

// invalid_value: "The <kind> <what>." for content that decodes but is more
// than the limits allow, or is a variant this server does not decode.
core::error refused(media_kind kind, std::string_view what);

// "600" or "12.5": seconds for a message, with at most one decimal.
std::string seconds_text(double seconds);

// Names the part in the message and in `param`: "The image at
// messages[0].content[1] is ...", with `param` the field itself
// ("messages[0].content[1].image_url.url").
core::error locate(core::error e, media_kind kind, const std::string& param);

}  // namespace osprey::media
