#include "http/router.hpp"

#include <gtest/gtest.h>

namespace osprey::http {
namespace {

TEST(ConstantTimeEqual, ComparesWholeStrings) {
    EXPECT_TRUE(constant_time_equal("secret", "secret"));
    EXPECT_FALSE(constant_time_equal("secret", "secreT"));
    EXPECT_FALSE(constant_time_equal("secret", "secret2"));
    EXPECT_FALSE(constant_time_equal("", "secret"));
    EXPECT_TRUE(constant_time_equal("", ""));
    // A prefix is not a match, even though every byte it has agrees.
    EXPECT_FALSE(constant_time_equal("sec", "secret"));
}

}  // namespace
}  // namespace osprey::http
