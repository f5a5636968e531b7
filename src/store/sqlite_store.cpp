#include "store/response_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <mutex>

#include <sqlite3.h>

#include "store/store_error.hpp"

namespace osprey::store {

namespace {

// How long a call waits for a lock that another process holds (a second
// osprey pointed at the same file, or sqlite3 on the command line) before
// failing with SQLITE_BUSY.
constexpr int busy_timeout_ms = 5000;

// Migration i takes the schema from version i to i + 1 and records that in
// PRAGMA user_version, inside the one transaction that runs them all. New
// versions are appended here; a released entry never changes.
constexpr std::array<const char*, 1> migrations = {
    "CREATE TABLE responses ("
    " id TEXT PRIMARY KEY,"
    " created_at INTEGER NOT NULL,"
    " response TEXT NOT NULL,"
    " conversation TEXT NOT NULL);"
    "PRAGMA user_version = 1;",
};

constexpr const char* put_sql =
    "INSERT INTO responses (id, created_at, response, conversation) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at,"
    " response = excluded.response, conversation = excluded.conversation";
constexpr const char* get_sql =
    "SELECT created_at, response, conversation FROM responses WHERE id = ?1";
constexpr const char* remove_sql = "DELETE FROM responses WHERE id = ?1";

struct db_closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct statement_finalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;
using statement_ptr = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

core::error failure(const char* public_message, std::string detail) {
    return store_error(core::error_code::internal, public_message, std::move(detail));
}

// SQLite's own words for the last failure on `db`, with the step that failed.
core::error sqlite_failure(const char* public_message, sqlite3* db, std::string_view step) {
    return failure(public_message, "sqlite " + std::string(step) + ": " + sqlite3_errmsg(db) +
                                       " (code " + std::to_string(sqlite3_extended_errcode(db)) +
                                       ")");
}

// Resets a statement when a call ends, however it ends, so that the next
// call finds it ready and it keeps no pointer into the caller's strings.
class statement_use {
public:
    explicit statement_use(sqlite3_stmt* s) : s_(s) {}
    ~statement_use() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }
    statement_use(const statement_use&) = delete;
    statement_use& operator=(const statement_use&) = delete;

private:
    sqlite3_stmt* s_;
};

// SQLITE_STATIC: the strings outlive the step, and statement_use clears the
// bindings before the call returns.
int bind_text(sqlite3_stmt* s, int index, const std::string& text) {
    return sqlite3_bind_text64(s, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
}

std::string column_text(sqlite3_stmt* s, int column) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, column));
    if (text == nullptr) {
        return {};
    }
    return std::string(text, static_cast<size_t>(sqlite3_column_bytes(s, column)));
}

class sqlite_store final : public response_store {
public:
    sqlite_store(db_ptr db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

    // Prepared once: the three statements are all the store ever runs.
    core::expected<void> prepare() {
        const std::array<std::pair<statement_ptr*, const char*>, 3> all = {
            {{&put_, put_sql}, {&get_, get_sql}, {&remove_, remove_sql}}};
        for (const auto& [target, sql] : all) {
            sqlite3_stmt* raw = nullptr;
            if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) !=
                SQLITE_OK) {
                return core::unexpected(sqlite_failure(open_failed, db_.get(), "prepare"));
            }
            target->reset(raw);
        }
        return {};
    }

    core::expected<void> put(const stored_response& r) override {
        std::lock_guard lock(mutex_);
        statement_use use(put_.get());
        sqlite3_stmt* s = put_.get();

        // One statement in autocommit mode is one transaction: a crash
        // leaves either the old row or the new one, never a mix.
        if (bind_text(s, 1, r.id) != SQLITE_OK ||
            sqlite3_bind_int64(s, 2, r.created_at) != SQLITE_OK ||
            bind_text(s, 3, r.response) != SQLITE_OK ||
            bind_text(s, 4, r.conversation) != SQLITE_OK) {
            return core::unexpected(sqlite_failure(put_failed, db_.get(), "bind"));
        }
        if (sqlite3_step(s) != SQLITE_DONE) {
            return core::unexpected(sqlite_failure(put_failed, db_.get(), "put"));
        }
        return {};
    }

    core::expected<std::optional<stored_response>> get(const std::string& id) override {
        std::lock_guard lock(mutex_);
        statement_use use(get_.get());
        sqlite3_stmt* s = get_.get();

        if (bind_text(s, 1, id) != SQLITE_OK) {
            return core::unexpected(sqlite_failure(get_failed, db_.get(), "bind"));
        }
        const int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE) {
            return std::nullopt;
        }
        if (rc != SQLITE_ROW) {
            return core::unexpected(sqlite_failure(get_failed, db_.get(), "get"));
        }
        return stored_response{id, sqlite3_column_int64(s, 0), column_text(s, 1),
                               column_text(s, 2)};
    }

    core::expected<bool> remove(const std::string& id) override {
        std::lock_guard lock(mutex_);
        statement_use use(remove_.get());
        sqlite3_stmt* s = remove_.get();

        if (bind_text(s, 1, id) != SQLITE_OK) {
            return core::unexpected(sqlite_failure(remove_failed, db_.get(), "bind"));
        }
        if (sqlite3_step(s) != SQLITE_DONE) {
            return core::unexpected(sqlite_failure(remove_failed, db_.get(), "remove"));
        }
        return sqlite3_changes(db_.get()) > 0;
    }

    std::string describe() const override { return "sqlite " + path_; }

private:
    // One connection, and statements that are reused, so one call at a time.
    std::mutex mutex_;
    // Declared first, destroyed last: the statements are finalised before it closes.
    db_ptr db_;
    statement_ptr put_;
    statement_ptr get_;
    statement_ptr remove_;
    std::string path_;
};

// The data folder is private to the server: stored responses hold users'
// prompts and the model's answers.
core::expected<std::filesystem::path> make_data_dir(const std::string& data_dir) {
    std::filesystem::path dir = std::filesystem::path(data_dir).lexically_normal();
    if (!dir.has_filename()) {
        dir = dir.parent_path();  // "data/" names the folder "data"
    }
    if (dir.empty()) {
        return core::unexpected(failure(open_failed, "sqlite: the data directory is empty"));
    }

    std::error_code ec;
    if (dir.has_parent_path()) {
        std::filesystem::create_directories(dir.parent_path(), ec);
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return core::unexpected(failure(
            open_failed, "sqlite: cannot create " + dir.string() + ": " + std::strerror(errno)));
    }
    if (!std::filesystem::is_directory(dir, ec)) {
        return core::unexpected(
            failure(open_failed, "sqlite: " + dir.string() + " exists and is not a directory"));
    }
    return dir;
}

// One text value from a PRAGMA that answers with a row.
core::expected<std::string> pragma_text(sqlite3* db, const char* sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
        return core::unexpected(sqlite_failure(open_failed, db, sql));
    }
    statement_ptr s(raw);
    if (sqlite3_step(s.get()) != SQLITE_ROW) {
        return core::unexpected(sqlite_failure(open_failed, db, sql));
    }
    return column_text(s.get(), 0);
}

core::expected<void> exec(sqlite3* db, const char* sql, std::string_view step) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
        return core::unexpected(sqlite_failure(open_failed, db, step));
    }
    return {};
}

// WAL lets readers run beside the writer; synchronous=FULL makes each commit
// reach the disk before put returns, so a power cut loses no acknowledged put.
core::expected<void> configure(sqlite3* db) {
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busy_timeout_ms);

    auto mode = pragma_text(db, "PRAGMA journal_mode = WAL");
    if (!mode) {
        return core::unexpected(mode.error());
    }
    if (*mode != "wal") {
        return core::unexpected(
            failure(open_failed, "sqlite: journal_mode is " + *mode + ", WAL was refused"));
    }
    return exec(db, "PRAGMA synchronous = FULL", "synchronous");
}

// Runs the missing migrations in one transaction. BEGIN IMMEDIATE takes the
// write lock first, so two processes opening one new file cannot both
// create the table.
core::expected<void> migrate(sqlite3* db) {
    if (auto begun = exec(db, "BEGIN IMMEDIATE", "begin"); !begun) {
        return begun;
    }
    auto result = [&]() -> core::expected<void> {
        auto text = pragma_text(db, "PRAGMA user_version");
        if (!text) {
            return core::unexpected(text.error());
        }
        size_t version = 0;
        const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), version);
        if (ec != std::errc() || end != text->data() + text->size() ||
            version > migrations.size()) {
            return core::unexpected(
                failure(open_failed, "sqlite: the database has schema version " + *text +
                                         ", which this osprey does not know (it knows 0 to " +
                                         std::to_string(migrations.size()) +
                                         "): was it written by a newer osprey?"));
        }
        for (size_t i = version; i < migrations.size(); ++i) {
            if (auto done = exec(db, migrations[i], "migration"); !done) {
                return done;
            }
        }
        return exec(db, "COMMIT", "commit");
    }();
    if (!result) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    return result;
}

}  // namespace

core::expected<std::unique_ptr<response_store>> open_sqlite_store(const std::string& data_dir) {
    auto dir = make_data_dir(data_dir);
    if (!dir) {
        return core::unexpected(dir.error());
    }
    const std::string path = (*dir / "responses.db").string();

    // Created private before SQLite opens it, whatever the umask and the
    // folder's mode: SQLite gives the -wal and -shm files the same mode.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return core::unexpected(
            failure(open_failed, "sqlite: cannot create " + path + ": " + std::strerror(errno)));
    }
    ::close(fd);

    // NOMUTEX: sqlite_store's own mutex already serialises every use.
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_ptr db(raw);
    if (rc != SQLITE_OK) {
        const std::string reason = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
        return core::unexpected(
            failure(open_failed, "sqlite: cannot open " + path + ": " + reason));
    }

    if (auto configured = configure(db.get()); !configured) {
        return core::unexpected(configured.error());
    }
    if (auto migrated = migrate(db.get()); !migrated) {
        return core::unexpected(migrated.error());
    }
    auto store = std::make_unique<sqlite_store>(std::move(db), path);
    if (auto prepared = store->prepare(); !prepared) {
        return core::unexpected(prepared.error());
    }
    return store;
}

}  // namespace osprey::store
