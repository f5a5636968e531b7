#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string_view>

#include "media/ip_address.hpp"

namespace osprey::media {

// Parses an address the test itself wrote; a typo fails the test, not the build.
inline ip_address must_parse(std::string_view text) {
    const std::optional<ip_address> a = ip_address::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(ip_address{});
}

}  // namespace osprey::media
