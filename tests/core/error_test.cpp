#include "core/error.hpp"

#include <gtest/gtest.h>

namespace osprey::core {
namespace {

TEST(ErrorCode, MapsToHttpStatus) {
    EXPECT_EQ(http_status(error_code::invalid_json), 400);
    EXPECT_EQ(http_status(error_code::context_length_exceeded), 400);
    EXPECT_EQ(http_status(error_code::unauthorized), 401);
    EXPECT_EQ(http_status(error_code::model_not_found), 404);
    EXPECT_EQ(http_status(error_code::method_not_allowed), 405);
    EXPECT_EQ(http_status(error_code::payload_too_large), 413);
    EXPECT_EQ(http_status(error_code::headers_too_large), 431);
    EXPECT_EQ(http_status(error_code::too_many_requests), 429);
    EXPECT_EQ(http_status(error_code::internal), 500);
    EXPECT_EQ(http_status(error_code::unavailable), 503);
    EXPECT_EQ(http_status(error_code::timeout), 504);
}

TEST(ErrorCode, NamesAreOpenAiCodes) {
    EXPECT_STREQ(name(error_code::missing_parameter), "missing_required_parameter");
    EXPECT_STREQ(name(error_code::model_not_found), "model_not_found");
    EXPECT_STREQ(name(error_code::unauthorized), "invalid_api_key");
}

TEST(MakeError, KeepsInternalDetailEmpty) {
    const error e = make_error(error_code::invalid_value, "bad", "temperature");
    EXPECT_EQ(e.public_message, "bad");
    EXPECT_EQ(e.param, "temperature");
    EXPECT_TRUE(e.internal_detail.empty());
}

}  // namespace
}  // namespace osprey::core
