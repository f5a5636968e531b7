#include "media/media_gate.hpp"

#include <future>
#include <vector>

#include "core/log.hpp"
#include "media/audio_probe.hpp"
#include "media/image_probe.hpp"
#include "media/local_source.hpp"
#include "media/media_error.hpp"
#include "media/media_type.hpp"
#include "media/video_decoder.hpp"

namespace osprey::media {

namespace {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto l = core::log::get("media");
    return l;
}

core::error with_param(core::error e, const std::string& param) {
    e.param = param;
    return e;
}

// Whether a probe passed; what it found is the engine's to read again.
template <typename T>
core::expected<void> outcome(const core::expected<T>& probed) {
    if (!probed) {
        return core::unexpected(probed.error());
    }
    return {};
}

}  // namespace

media_gate::media_gate(gate_options options, const fetcher& fetch)
    : options_(std::move(options)), fetch_(fetch) {}

bool media_gate::has_media(const core::chat_request& request) {
    for (const auto& m : request.messages) {
        for (const auto& p : m.parts) {
            if (p.kind != core::part_kind::text) {
                return true;
            }
        }
    }
    return false;
}

core::expected<void> media_gate::resolve(core::chat_request& request,
                                         std::string_view request_id) const {
    std::vector<core::message_part*> parts;
    for (auto& m : request.messages) {
        for (auto& p : m.parts) {
            if (p.kind != core::part_kind::text) {
                parts.push_back(&p);
            }
        }
    }
    if (parts.size() > options_.max_parts) {
        return core::unexpected(core::make_error(
            core::error_code::invalid_value,
            "A request may carry at most " + std::to_string(options_.max_parts) + " media parts.",
            "messages"));
    }

    // Every part at once: the slowest one, not their sum, bounds the wait.
    std::vector<std::future<core::expected<std::string>>> loads;
    for (const auto* p : parts) {
        loads.push_back(
            std::async(std::launch::async, [this, p, request_id] { return load(*p, request_id); }));
    }
    std::optional<core::error> first_error;
    for (size_t i = 0; i < parts.size(); ++i) {
        auto bytes = loads[i].get();
        if (!bytes && !first_error) {
            first_error = with_param(bytes.error(), parts[i]->param);
        } else if (bytes) {
            parts[i]->data = std::move(*bytes);
        }
    }
    if (first_error) {
        return core::unexpected(*first_error);
    }
    for (auto* p : parts) {
        auto ok = check_format(*p, request_id);
        if (ok) {
            ok = check_content(*p, request_id);
        }
        if (!ok) {
            return core::unexpected(with_param(ok.error(), p->param));
        }
    }
    return {};
}

core::expected<std::string> media_gate::load(const core::message_part& part,
                                             std::string_view request_id) const {
    const std::size_t max_bytes = fetch_.options().max_bytes;
    if (is_data_uri(part.source)) {
        return decode_data_uri(part.source, max_bytes);
    }
    if (is_local_reference(part.source)) {
        auto bytes = read_under_root(part.source, options_.media_root, max_bytes);
        if (!bytes) {
            core::log::warn(*logger(), "media.file_refused",
                            {{"req", request_id}, {"detail", bytes.error().internal_detail}});
        }
        return bytes;
    }
    if (!options_.remote_enabled) {
        core::error e = core::make_error(core::error_code::media_unavailable,
                                         "This server does not fetch media by URL; send the "
                                         "media inline as a data: URI.");
        return core::unexpected(e);
    }
    return fetch_.fetch(part.source, request_id);
}

core::expected<void> media_gate::check_format(core::message_part& part,
                                              std::string_view request_id) const {
    const media_format f = sniff_format(part.data);
    const bool remote = !is_data_uri(part.source) && !is_local_reference(part.source);
    if (!carries(f, kind_of(part.kind)) && remote) {
        // Fetched bytes of the wrong type get the same answer as every other
        // remote failure: what a URL serves says something about the network.
        core::error e = media_refusal(std::string("rule=wrong_type format=") + name(f) +
                                      " kind=" + core::name(part.kind));
        core::log::warn(*logger(), "media.fetch_refused",
                        {{"req", request_id}, {"detail", e.internal_detail}});
        return core::unexpected(e);
    }
    if (!carries(f, kind_of(part.kind))) {
        return core::unexpected(core::make_error(core::error_code::invalid_value,
                                                 std::string("The ") + core::name(part.kind) +
                                                     " part's bytes are not a supported " +
                                                     core::name(part.kind) + " format."));
    }
    part.format = name(f);
    return {};
}

// Headers only: no pixel or sample is decoded here, and whatever is too big
// to decode is refused before the engine allocates anything for it.
core::expected<void> media_gate::check_content(const core::message_part& part,
                                               std::string_view request_id) const {
    const media_kind kind = kind_of(part.kind);
    core::expected<void> ok;
    switch (kind) {
    case media_kind::image: ok = outcome(probe_image(part.data, options_.limits)); break;
    case media_kind::audio: ok = outcome(probe_audio(part.data, options_.limits)); break;
    case media_kind::video: ok = outcome(probe_video(part.data, options_.limits)); break;
    }
    if (!ok) {
        core::error e = locate(ok.error(), kind, part.param);
        core::log::warn(*logger(), "media.content_refused",
                        {{"req", request_id},
                         {"param", part.param},
                         {"format", part.format},
                         {"reason", e.public_message},
                         {"detail", e.internal_detail}});
        return core::unexpected(e);
    }
    return {};
}

media_kind kind_of(core::part_kind k) {
    switch (k) {
    case core::part_kind::audio: return media_kind::audio;
    case core::part_kind::video: return media_kind::video;
    default: return media_kind::image;
    }
}

}  // namespace osprey::media
