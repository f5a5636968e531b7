#include "media/media_error.hpp"

#include <cmath>
#include <cstdio>

namespace osprey::media {

namespace {

std::string subject(media_kind kind) {
    return std::string("The ") + name(kind) + " ";
}

// The part, without the field inside it: "messages[0].content[1]" for
// "messages[0].content[1].image_url.url", which reads better in a sentence.
std::string_view part_of(std::string_view param) {
    const auto bracket = param.rfind(']');
    return bracket == std::string_view::npos ? param : param.substr(0, bracket + 1);
}

}  // namespace

core::error undecodable(media_kind kind, std::string_view reason, std::string detail) {
    auto e = core::make_error(core::error_code::invalid_value,
                              subject(kind) + "could not be decoded: " + std::string(reason) + ".");
    e.internal_detail = std::move(detail);
    return e;
}

core::error refused(media_kind kind, std::string_view what) {
    return core::make_error(core::error_code::invalid_value,
                            subject(kind) + std::string(what) + ".");
}

std::string seconds_text(double seconds) {
    char text[32];
    const bool whole = std::floor(seconds) == seconds;
    std::snprintf(text, sizeof text, whole ? "%.0f" : "%.1f", seconds);
    return text;
}

core::error locate(core::error e, media_kind kind, const std::string& param) {
    const std::string prefix = subject(kind);
    const std::string_view where = part_of(param);
    if (!where.empty() && e.public_message.starts_with(prefix)) {
        e.public_message.insert(prefix.size(), "at " + std::string(where) + " ");
    }
    e.param = param;
    return e;
}

}  // namespace osprey::media
