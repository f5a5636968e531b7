#include "bench/load/stream_record.hpp"

#include <gtest/gtest.h>

namespace osprey::bench::load {
namespace {

void apply(std::string data, stream_record& r) {
    apply_event({"", std::move(data)}, clock_type::now(), r);
}

TEST(ApplyEvent, CountsNonEmptyContentAndReadsUsage) {
    stream_record r;
    r.status = 200;
    apply(R"({"choices":[{"delta":{"role":"assistant","content":""}}]})", r);
    apply(R"({"choices":[{"delta":{"content":"Once"}}]})", r);
    apply(R"({"choices":[{"delta":{"content":" upon"}}],"usage":null})", r);
    apply(R"({"choices":[{"delta":{},"finish_reason":"length"}]})", r);
    apply(R"({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2}})", r);
    EXPECT_FALSE(succeeded(r));
    apply("[DONE]", r);

    EXPECT_EQ(r.content_times.size(), 2u);
    EXPECT_EQ(r.completion_tokens, 2);
    EXPECT_EQ(r.prompt_tokens, 12);
    EXPECT_TRUE(succeeded(r));
}

TEST(ApplyEvent, RecordsAnErrorObject) {
    stream_record r;
    r.status = 200;
    apply(R"({"error":{"message":"out of slots","type":"server_error"}})", r);
    apply("[DONE]", r);
    EXPECT_NE(r.error.find("out of slots"), std::string::npos);
    EXPECT_FALSE(succeeded(r));
}

TEST(ApplyEvent, SurvivesMalformedChunks) {
    stream_record r;
    for (const char* data : {"{", "null", "[1,2]", R"({"choices":7})", R"({"choices":[3]})",
                             R"({"choices":[{"delta":{"content":5}}]})",
                             R"({"usage":{"completion_tokens":"many"}})"}) {
        apply(data, r);
    }
    EXPECT_TRUE(r.content_times.empty());
    EXPECT_EQ(r.completion_tokens, std::nullopt);
    EXPECT_NE(r.error.find("not JSON"), std::string::npos);
}

TEST(Clip, CutsLongTextsOnly) {
    EXPECT_EQ(clip("short", 10), "short");
    EXPECT_EQ(clip("0123456789abc", 10), "0123456789...");
}

}  // namespace
}  // namespace osprey::bench::load
