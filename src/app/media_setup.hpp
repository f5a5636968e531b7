#pragma once

#include <memory>

#include "app/options.hpp"
#include "core/error.hpp"
#include "media/address_policy.hpp"
#include "media/fetcher.hpp"
#include "media/media_gate.hpp"
#include "media/resolver.hpp"

namespace osprey::app {

// The media stack, built once from the options; the gate refers to the rest.
struct media_stack {
    std::unique_ptr<media::address_policy> policy;
    std::unique_ptr<media::resolver> names;
    std::unique_ptr<media::fetcher> fetch;
    std::unique_ptr<media::media_gate> gate;
};

// Errors: invalid_value for a --media-allow-hosts or --media-allowed-domains
// entry that is neither a host name nor an address range.
core::expected<media_stack> build_media(const serve_options& o);

}  // namespace osprey::app
