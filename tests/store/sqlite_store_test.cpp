// What only the SQLite backend has: its file, its folder, and crashes.

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "scratch_dir.hpp"
#include "store/response_store.hpp"

namespace osprey::store {
namespace {

using osprey::testing::scratch_dir;

// A connection of its own to the store's file, to look at it from outside.
class raw_db {
public:
    explicit raw_db(const std::filesystem::path& path) {
        if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
            throw std::runtime_error("cannot open " + path.string());
        }
    }
    ~raw_db() { sqlite3_close(db_); }
    raw_db(const raw_db&) = delete;
    raw_db& operator=(const raw_db&) = delete;

    // Every row of `sql`, each column as text.
    std::vector<std::vector<std::string>> rows(const char* sql) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
            throw std::runtime_error(std::string(sql) + ": " + sqlite3_errmsg(db_));
        }
        std::vector<std::vector<std::string>> out;
        while (sqlite3_step(s) == SQLITE_ROW) {
            auto& row = out.emplace_back();
            for (int c = 0; c < sqlite3_column_count(s); ++c) {
                const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
                row.emplace_back(text != nullptr ? text : "");
            }
        }
        sqlite3_finalize(s);
        return out;
    }

    std::string text(const char* sql) {
        auto all = rows(sql);
        return all.empty() || all[0].empty() ? std::string() : all[0][0];
    }

private:
    sqlite3* db_ = nullptr;
};

TEST(SqliteStoreTest, KeepsItsFilesPrivateAndDescribesThem) {
    scratch_dir dir;
    const auto data = dir.path() / "nested" / "data";
    auto store = open_sqlite_store(data.string() + "/");
    ASSERT_TRUE(store) << store.error().internal_detail;

    struct stat st {};
    ASSERT_EQ(::stat(data.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    // SQLite alone would make them 0644, less the umask.
    ASSERT_EQ(::stat((data / "responses.db").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((data / "responses.db-wal").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ((*store)->describe(), "sqlite " + (data / "responses.db").string());
}

TEST(SqliteStoreTest, UsesWalAndSchemaVersionOneAndMigratesOnlyOnce) {
    scratch_dir dir;
    for (int open = 0; open < 2; ++open) {
        auto store = open_sqlite_store(dir.path().string());
        ASSERT_TRUE(store) << store.error().internal_detail;
    }

    raw_db db(dir.path() / "responses.db");
    EXPECT_EQ(db.text("PRAGMA journal_mode"), "wal");
    EXPECT_EQ(db.text("PRAGMA user_version"), "1");
    EXPECT_EQ(db.text("SELECT group_concat(name) FROM sqlite_master WHERE type = 'table'"),
              "responses");
}

TEST(SqliteStoreTest, RefusesADatabaseFromANewerOsprey) {
    scratch_dir dir;
    ASSERT_TRUE(open_sqlite_store(dir.path().string()));
    raw_db(dir.path() / "responses.db").rows("PRAGMA user_version = 2");

    auto store = open_sqlite_store(dir.path().string());
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, core::error_code::internal);
    EXPECT_NE(store.error().internal_detail.find("schema version 2"), std::string::npos)
        << store.error().internal_detail;
    EXPECT_EQ(store.error().public_message.find(dir.path().string()), std::string::npos);
}

TEST(SqliteStoreTest, AnUnusableDataDirIsRefusedWithoutTellingTheClientWhere) {
    scratch_dir dir;
    const auto file = dir.path() / "not-a-folder";
    std::ofstream(file) << "x";

    auto store = open_sqlite_store(file.string());
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, core::error_code::internal);
    EXPECT_EQ(store.error().public_message.find(dir.path().string()), std::string::npos);
    EXPECT_NE(store.error().internal_detail.find(file.string()), std::string::npos);
}

// Response n is written by put number i; every fourth put replaces an
// earlier response, so a kill can land in an update as well as an insert.
int target_of(int i) {
    return i % 4 == 3 ? i - 2 : i;
}

std::string id_of(int n) {
    return "resp_" + std::to_string(n);
}

// The child: puts responses of 64 KiB, one after another, and writes each
// put's number to `acks` once put has returned. It never stops by itself.
[[noreturn]] void write_until_killed(const std::string& data_dir, int acks, int first) {
    auto store = open_sqlite_store(data_dir);
    if (!store) {
        ::_exit(2);
    }
    const std::string padding(64 * 1024, 'x');
    for (int i = first;; ++i) {
        const int n = target_of(i);
        const nlohmann::json response = {{"id", id_of(n)}, {"put", i}, {"padding", padding}};
        const nlohmann::json conversation = {{{"put", i}}};
        if (!(*store)->put({id_of(n), i, response.dump(), conversation.dump()})) {
            ::_exit(3);
        }
        if (::write(acks, &i, sizeof i) != sizeof i) {
            ::_exit(4);
        }
    }
}

bool read_ack(int fd, int& i) {
    char* out = reinterpret_cast<char*>(&i);
    size_t got = 0;
    while (got < sizeof i) {
        const ssize_t n = ::read(fd, out + got, sizeof i - got);
        if (n <= 0) {
            return false;
        }
        got += static_cast<size_t>(n);
    }
    return true;
}

// Every row is whole: both JSON texts parse and agree with each other and
// with the row's id and created_at.
void expect_whole_rows(const std::filesystem::path& file) {
    raw_db db(file);
    EXPECT_EQ(db.text("PRAGMA integrity_check"), "ok");
    for (const auto& row :
         db.rows("SELECT id, created_at, response, conversation FROM responses")) {
        const auto response = nlohmann::json::parse(row[2], nullptr, false);
        const auto conversation = nlohmann::json::parse(row[3], nullptr, false);
        ASSERT_FALSE(response.is_discarded()) << row[0];
        ASSERT_FALSE(conversation.is_discarded()) << row[0];
        EXPECT_EQ(response["id"], row[0]);
        EXPECT_EQ(response["put"].dump(), row[1]);
        EXPECT_EQ(conversation[0]["put"].dump(), row[1]);
    }
}

// Each round forks a writer, lets it acknowledge some puts, and SIGKILLs it
// while it is still writing. Then every acknowledged put must be there (the
// latest one for its id, or a later one), and every row must be whole.
TEST(SqliteStoreTest, SurvivesKillNineInTheMiddleOfWrites) {
    scratch_dir dir;
    std::map<int, int> last_ack;  // response number -> the last put acknowledged for it

    for (int round = 0; round < 3; ++round) {
        int pipe_fds[2];
        ASSERT_EQ(::pipe(pipe_fds), 0);
        const pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            ::close(pipe_fds[0]);
            write_until_killed(dir.path().string(), pipe_fds[1], round * 100000);
        }
        ::close(pipe_fds[1]);

        int i = 0;
        for (int acked = 0; acked < 40 && read_ack(pipe_fds[0], i); ++acked) {
            last_ack[target_of(i)] = i;
        }
        ::kill(child, SIGKILL);
        while (read_ack(pipe_fds[0], i)) {  // those written before the kill landed
            last_ack[target_of(i)] = i;
        }
        ::close(pipe_fds[0]);
        int status = 0;
        ::waitpid(child, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
            << "the writer stopped by itself, status " << status;

        auto store = open_sqlite_store(dir.path().string());
        ASSERT_TRUE(store) << store.error().internal_detail;
        for (const auto& [n, put] : last_ack) {
            auto found = (*store)->get(id_of(n));
            ASSERT_TRUE(found && found->has_value()) << id_of(n);
            EXPECT_GE((*found)->created_at, put) << id_of(n);
        }
        store->reset();
        expect_whole_rows(dir.path() / "responses.db");
    }
}

}  // namespace
}  // namespace osprey::store
