#include "api/media_inputs.hpp"

#include <cstdio>

#include "media/image_probe.hpp"
#include "media/media_error.hpp"
#include "media/media_gate.hpp"
#include "media/video_decoder.hpp"
#include "media/webp_decoder.hpp"

namespace osprey::api {

namespace {

engine::media_input pixels_of(media::rgb_image image) {
    engine::media_input in;
    in.kind = engine::media_input::type::image;
    in.width = image.width;
    in.height = image.height;
    in.rgb = std::move(image.rgb);
    return in;
}

core::expected<engine::media_expansion> expand_image(const core::message_part& p,
                                                     const media::media_limits& limits) {
    if (media::sniff_format(p.data) == media::media_format::webp) {
        auto image = media::decode_webp(p.data, limits);
        if (!image) {
            return core::unexpected(image.error());
        }
        auto in = pixels_of(std::move(*image));
        in.param = p.param;
        return engine::media_expansion{{{}, std::move(in)}};
    }
    auto info = media::probe_image(p.data, limits);
    if (!info) {
        return core::unexpected(info.error());
    }
    engine::media_input in;
    in.kind = engine::media_input::type::image;
    in.file = p.data;
    in.width = info->width;
    in.height = info->height;
    in.param = p.param;
    return engine::media_expansion{{{}, std::move(in)}};
}

// "[12.0s]": each frame is told to the model with its time in the video.
std::string timestamp(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "[%.1fs] ", seconds);
    return text;
}

core::expected<engine::media_expansion> expand_video(const core::message_part& p,
                                                     const media::media_limits& limits) {
    auto frames = media::decode_video(p.data, limits);
    if (!frames) {
        return core::unexpected(frames.error());
    }
    engine::media_expansion out;
    for (auto& frame : *frames) {
        out.push_back({timestamp(frame.seconds), pixels_of(std::move(frame.image))});
        out.back().media->param = p.param;
    }
    return out;
}

core::expected<engine::media_expansion> expand_part(const core::message_part& p,
                                                    const media::media_limits& limits) {
    switch (p.kind) {
    case core::part_kind::image: return expand_image(p, limits);
    case core::part_kind::video: return expand_video(p, limits);
    default: break;
    }
    engine::media_input in;
    in.kind = engine::media_input::type::audio;
    in.file = p.data;
    in.param = p.param;
    return engine::media_expansion{{{}, std::move(in)}};
}

}  // namespace

core::expected<std::vector<engine::media_expansion>> expand_media(
    const core::chat_request& request, const media::media_limits& limits) {
    std::vector<engine::media_expansion> out;
    for (const auto& m : request.messages) {
        for (const auto& p : m.parts) {
            if (p.kind == core::part_kind::text) {
                continue;
            }
            auto expansion = expand_part(p, limits);
            if (!expansion) {
                return core::unexpected(
                    media::locate(std::move(expansion.error()), media::kind_of(p.kind), p.param));
            }
            out.push_back(std::move(*expansion));
        }
    }
    return out;
}

}  // namespace osprey::api
