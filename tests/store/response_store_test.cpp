// The contract of response_store, run against both backends alike.

#include "store/response_store.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

#include "store_backends.hpp"

namespace osprey::store {
namespace {

using testing::postgresql_backend;
using testing::sqlite_backend;

stored_response sample(const std::string& id, int64_t created_at = 1'700'000'000) {
    // Odd spacing on purpose: the store must hand back the very bytes it got.
    return {id, created_at, R"({ "id" : ")" + id + R"(", "object":"response" })",
            R"([{"role":"user","content":"hi"}])"};
}

void expect_same(const stored_response& want, const std::optional<stored_response>& got) {
    ASSERT_TRUE(got.has_value()) << want.id;
    EXPECT_EQ(got->id, want.id);
    EXPECT_EQ(got->created_at, want.created_at);
    EXPECT_EQ(got->response, want.response);
    EXPECT_EQ(got->conversation, want.conversation);
}

template <typename Backend>
class ResponseStoreTest : public ::testing::Test {
protected:
    void SetUp() override { open(); }

    void open() {
        auto opened = backend_.open();
        ASSERT_TRUE(opened) << opened.error().internal_detail;
        store_ = std::move(*opened);
    }

    void put(const stored_response& r) {
        auto done = store_->put(r);
        ASSERT_TRUE(done) << done.error().internal_detail;
    }

    std::optional<stored_response> get(const std::string& id) {
        auto found = store_->get(id);
        EXPECT_TRUE(found) << found.error().internal_detail;
        return found ? *found : std::nullopt;
    }

    Backend backend_;
    std::unique_ptr<response_store> store_;
};

// No name generator: CMake's test discovery names each test after its type
// ("ResponseStoreTest.UnicodeRoundTrips<osprey::store::testing::sqlite_backend>")
// and garbles the names a generator gives.
using backends = ::testing::Types<sqlite_backend, postgresql_backend>;
TYPED_TEST_SUITE(ResponseStoreTest, backends);

TYPED_TEST(ResponseStoreTest, PutThenGetReturnsTheSameBytes) {
    const auto r = sample("resp_1");
    this->put(r);
    expect_same(r, this->get("resp_1"));
}

TYPED_TEST(ResponseStoreTest, CreatedAtKeepsAllOf64Bits) {
    const auto low = sample("resp_low", std::numeric_limits<int64_t>::min());
    const auto high = sample("resp_high", std::numeric_limits<int64_t>::max());
    this->put(low);
    this->put(high);
    expect_same(low, this->get("resp_low"));
    expect_same(high, this->get("resp_high"));
}

TYPED_TEST(ResponseStoreTest, PutWithTheSameIdReplaces) {
    this->put(sample("resp_1", 1));
    const stored_response second{"resp_1", 2, R"({"second":true})", "[]"};
    this->put(second);
    expect_same(second, this->get("resp_1"));
}

TYPED_TEST(ResponseStoreTest, RemoveSaysWhetherThereWasOne) {
    this->put(sample("resp_1"));
    this->put(sample("resp_2"));

    auto removed = this->store_->remove("resp_1");
    ASSERT_TRUE(removed) << removed.error().internal_detail;
    EXPECT_TRUE(*removed);
    EXPECT_FALSE(this->get("resp_1").has_value());

    removed = this->store_->remove("resp_1");
    ASSERT_TRUE(removed) << removed.error().internal_detail;
    EXPECT_FALSE(*removed);
    expect_same(sample("resp_2"), this->get("resp_2"));
}

TYPED_TEST(ResponseStoreTest, GetOfAMissingIdIsEmptyNotAnError) {
    auto found = this->store_->get("resp_never_stored");
    ASSERT_TRUE(found) << found.error().internal_detail;
    EXPECT_FALSE(found->has_value());
}

// Values travel as parameters, never inside the SQL text.
TYPED_TEST(ResponseStoreTest, ValuesThatLookLikeSqlAreJustValues) {
    const stored_response r{"resp_'); DROP TABLE responses; --", 1, R"({"q":"' OR 1=1 --"})",
                            R"(["$1", "?1", "\\"])"};
    this->put(r);
    expect_same(r, this->get(r.id));
}

TYPED_TEST(ResponseStoreTest, UnicodeRoundTrips) {
    const stored_response r{"resp_ünï_🦅", 1,
                            R"({"text":"héllo, 世界 🦅 e\u0301 עברית"})",
                            R"([{"content":"Ω≈ç√∫ 𝕏 \ud83e\udd85"}])"};
    this->put(r);
    expect_same(r, this->get(r.id));
}

TYPED_TEST(ResponseStoreTest, OneMebibyteValuesRoundTrip) {
    std::string big_text;
    for (size_t i = 0; big_text.size() < (1u << 20); ++i) {
        big_text += "token " + std::to_string(i) + " ";
    }
    const stored_response r{"resp_big", 1, R"({"output":")" + big_text + R"("})",
                            R"([")" + big_text + R"(", "é"])"};
    this->put(r);
    expect_same(r, this->get("resp_big"));
}

TYPED_TEST(ResponseStoreTest, PutsFromEightThreadsAllLand) {
    constexpr int threads = 8;
    constexpr int per_thread = 40;
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
        writers.emplace_back([this, t] {
            for (int i = 0; i < per_thread; ++i) {
                const auto r = sample("resp_" + std::to_string(t) + "_" + std::to_string(i), i);
                auto done = this->store_->put(r);
                EXPECT_TRUE(done) << done.error().internal_detail;
                auto found = this->store_->get(r.id);
                EXPECT_TRUE(found && found->has_value());
            }
        });
    }
    for (auto& w : writers) {
        w.join();
    }

    for (int t = 0; t < threads; ++t) {
        for (int i = 0; i < per_thread; ++i) {
            const auto id = "resp_" + std::to_string(t) + "_" + std::to_string(i);
            expect_same(sample(id, i), this->get(id));
        }
    }
}

TYPED_TEST(ResponseStoreTest, WhatWasStoredOutlivesARestart) {
    for (int i = 0; i < 20; ++i) {
        this->put(sample("resp_" + std::to_string(i), i));
    }
    ASSERT_TRUE(this->store_->remove("resp_7").value());

    this->store_.reset();
    this->backend_.restart();
    this->open();

    for (int i = 0; i < 20; ++i) {
        const auto id = "resp_" + std::to_string(i);
        if (i == 7) {
            EXPECT_FALSE(this->get(id).has_value());
        } else {
            expect_same(sample(id, i), this->get(id));
        }
    }
}

}  // namespace
}  // namespace osprey::store
