// What only the PostgreSQL backend has: a server that can go away, other
// replicas, and a password. Each test gets its own server (postgresql_server).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <barrier>
#include <thread>
#include <vector>

#include "postgresql_server.hpp"
#include "store/response_store.hpp"

namespace osprey::store {
namespace {

using testing::postgresql_server;

const stored_response sample{"resp_1", 1, R"({"id":"resp_1"})", "[]"};

std::unique_ptr<response_store> open_or_fail(const std::string& url) {
    auto store = open_postgresql_store(url);
    EXPECT_TRUE(store) << store.error().internal_detail;
    return store ? std::move(*store) : nullptr;
}

void expect_silent_about(const core::error& e, const std::string& secret) {
    EXPECT_EQ(e.public_message.find(secret), std::string::npos) << e.public_message;
    EXPECT_EQ(e.internal_detail.find(secret), std::string::npos) << e.internal_detail;
}

TEST(PostgresqlStoreTest, ReplicasOpeningOneEmptyDatabaseAtOnceAllSucceed) {
    postgresql_server server;
    constexpr int replicas = 4;
    std::barrier start(replicas);
    std::vector<std::unique_ptr<response_store>> stores(replicas);
    std::vector<std::thread> openers;
    for (int i = 0; i < replicas; ++i) {
        openers.emplace_back([&, i] {
            start.arrive_and_wait();
            stores[i] = open_or_fail(server.url());
        });
    }
    for (auto& t : openers) {
        t.join();
    }

    EXPECT_EQ(server.query("SELECT count(*) FROM osprey_schema_version"), "1");
    for (auto& store : stores) {
        ASSERT_NE(store, nullptr);
        EXPECT_TRUE(store->put(sample));
    }
}

TEST(PostgresqlStoreTest, ReconnectsAfterTheServerRestarts) {
    postgresql_server server;
    auto store = open_or_fail(server.url());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->put(sample));

    server.stop();
    server.start();

    auto found = store->get(sample.id);
    ASSERT_TRUE(found) << found.error().internal_detail;
    EXPECT_TRUE(found->has_value());
    EXPECT_TRUE(store->put(sample));
}

TEST(PostgresqlStoreTest, WhileTheServerIsDownCallsAreUnavailableThenRecover) {
    postgresql_server server;
    auto store = open_or_fail(server.url());
    ASSERT_NE(store, nullptr);

    server.stop();
    auto failed = store->put(sample);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, core::error_code::unavailable);
    EXPECT_EQ(failed.error().public_message.find("127.0.0.1"), std::string::npos);

    server.start();
    auto done = store->put(sample);
    EXPECT_TRUE(done) << done.error().internal_detail;
}

TEST(PostgresqlStoreTest, RefusesADatabaseFromANewerOsprey) {
    postgresql_server server;
    ASSERT_NE(open_or_fail(server.url()), nullptr);
    server.query("INSERT INTO osprey_schema_version (version) VALUES (2)");

    auto store = open_postgresql_store(server.url());
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, core::error_code::internal);
    EXPECT_NE(store.error().internal_detail.find("schema version 2"), std::string::npos)
        << store.error().internal_detail;
}

TEST(PostgresqlStoreTest, DescribeNamesHostPortAndDatabaseButNotThePassword) {
    postgresql_server server;
    auto store = open_or_fail(server.url("hunter2-not-checked"));
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->describe(),
              "postgresql 127.0.0.1:" + std::to_string(server.port()) + "/postgres");
}

// A loopback port that refuses connections: bound, never listening, and
// held until the test ends so that nothing else takes it.
class refusing_port {
public:
    refusing_port() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof addr;
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), size), 0);
        EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &size), 0);
        port_ = ntohs(addr.sin_port);
    }
    ~refusing_port() { ::close(fd_); }
    refusing_port(const refusing_port&) = delete;
    refusing_port& operator=(const refusing_port&) = delete;

    int port() const { return port_; }

private:
    int fd_;
    int port_ = 0;
};

TEST(PostgresqlStoreTest, AnUnreachableServerIsUnavailableAndThePasswordStaysSecret) {
    refusing_port port;
    const std::string server = "127.0.0.1:" + std::to_string(port.port());
    for (const std::string& url : {"postgresql://osprey:hunter2-secret@" + server + "/osprey",
                                   "postgresql://osprey@" + server + "/osprey?password=hunter2"}) {
        auto store = open_postgresql_store(url);
        ASSERT_FALSE(store) << url;
        EXPECT_EQ(store.error().code, core::error_code::unavailable);
        expect_silent_about(store.error(), "hunter2");
        EXPECT_EQ(store.error().public_message.find("127.0.0.1"), std::string::npos);
        EXPECT_NE(store.error().internal_detail.find("127.0.0.1"), std::string::npos)
            << "the log should say which server: " << store.error().internal_detail;
    }
}

// libpq's reasons for a URL it cannot parse may quote the part that failed,
// here the password itself.
TEST(PostgresqlStoreTest, AUrlThatDoesNotParseIsRefusedWithoutQuotingIt) {
    auto store = open_postgresql_store("postgresql://osprey:hunter2%zz@127.0.0.1:1/osprey");
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, core::error_code::internal);
    expect_silent_about(store.error(), "hunter2");
}

}  // namespace
}  // namespace osprey::store
