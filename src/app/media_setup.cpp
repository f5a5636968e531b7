#include "app/media_setup.hpp"

#include <algorithm>
#include <cctype>

#include "core/log.hpp"

namespace osprey::app {

namespace {

// Host names are compared as the URL policy leaves them: lowercase, without
// a trailing dot.
std::string normal_name(std::string name) {
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!name.empty() && name.back() == '.') {
        name.pop_back();
    }
    return name;
}

bool plausible_name(const std::string& name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '.';
    });
}

core::error bad_entry(const std::string& option, const std::string& entry) {
    return core::make_error(
        core::error_code::invalid_value,
        option + ": '" + entry + "' is neither a host name nor an address range");
}

}  // namespace

core::expected<media_stack> build_media(const serve_options& o) {
    media::fetch_options f;
    f.urls.allowed_ports = o.media_allowed_ports;
    std::vector<media::cidr> allowed_ranges;
    for (const auto& entry : o.media_allow_hosts) {
        if (auto range = media::cidr::parse(entry)) {
            allowed_ranges.push_back(*range);
        } else if (plausible_name(normal_name(entry))) {
            f.urls.allowed_names.push_back(normal_name(entry));
        } else {
            return core::unexpected(bad_entry("--media-allow-hosts", entry));
        }
    }
    for (const auto& domain : o.media_allowed_domains) {
        if (!plausible_name(normal_name(domain))) {
            return core::unexpected(bad_entry("--media-allowed-domains", domain));
        }
        f.urls.allowed_domains.push_back(normal_name(domain));
    }
    f.max_redirects = o.media_max_redirects;
    f.proxy = o.media_proxy;
    f.ca_file = o.media_ca_file;
    f.max_bytes = o.media_max_bytes;
    f.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.media_timeout_s * 1000));
    f.connect_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(o.media_connect_timeout_s * 1000));

    media_stack stack;
    stack.policy = std::make_unique<media::address_policy>(
        std::move(allowed_ranges), media::address_policy::interface_addresses());
    stack.names = media::make_system_resolver();
    stack.fetch = std::make_unique<media::fetcher>(std::move(f), *stack.policy, *stack.names);
    media::gate_options g;
    g.remote_enabled = !o.no_remote_media;
    g.media_root = o.media_root;
    g.limits.max_image_pixels = o.max_image_pixels;
    g.limits.max_audio_seconds = o.max_audio_seconds;
    g.limits.max_video_seconds = o.max_video_seconds;
    g.limits.video_fps = o.video_fps;
    g.limits.video_max_frames = static_cast<std::size_t>(o.video_max_frames);
    stack.gate = std::make_unique<media::media_gate>(std::move(g), *stack.fetch);
    return stack;
}

}  // namespace osprey::app
