#include <array>
#include <charconv>
#include <mutex>

#include "core/log.hpp"
#include "store/postgresql_connection.hpp"
#include "store/response_store.hpp"
#include "store/store_error.hpp"

namespace osprey::store {

namespace {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto l = core::log::get("store");
    return l;
}

// Every osprey takes this transaction-scoped advisory lock while it creates
// or migrates the schema, so replicas starting at once against one empty
// database wait for each other instead of racing on CREATE TABLE (which
// IF NOT EXISTS does not make safe: both may pass the check). The number is
// arbitrary and fixed forever: "osprey" in ASCII, then 1.
constexpr const char* schema_lock_key = "31370649207666945";  // 0x6f737072657901

// The tables carry an osprey_ prefix: a shared database may already have a
// "responses" table of someone else's.
constexpr const char* create_version_table =
    "CREATE TABLE IF NOT EXISTS osprey_schema_version ("
    " version INTEGER PRIMARY KEY,"
    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";

// Migration i takes the schema from version i to i + 1. New versions are
// appended here; a released entry never changes. TEXT, not JSONB: GET must
// return the bytes that were stored, and JSONB would reformat them.
constexpr std::array<const char*, 1> migrations = {
    "CREATE TABLE osprey_responses ("
    " id TEXT PRIMARY KEY,"
    " created_at BIGINT NOT NULL,"
    " response TEXT NOT NULL,"
    " conversation TEXT NOT NULL)",
};

constexpr const char* put_sql =
    "INSERT INTO osprey_responses (id, created_at, response, conversation)"
    " VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET created_at = EXCLUDED.created_at,"
    " response = EXCLUDED.response, conversation = EXCLUDED.conversation";
constexpr const char* get_sql =
    "SELECT created_at, response, conversation FROM osprey_responses WHERE id = $1";
constexpr const char* remove_sql = "DELETE FROM osprey_responses WHERE id = $1";

core::error failure(core::error_code code, const char* public_message, std::string_view step,
                    const std::string& reason) {
    return store_error(code, public_message, "postgresql " + std::string(step) + ": " + reason);
}

std::string text_value(const PGresult* r, int row, int column) {
    return std::string(PQgetvalue(r, row, column),
                       static_cast<size_t>(PQgetlength(r, row, column)));
}

class postgresql_store final : public response_store {
public:
    postgresql_store(pg::session session, std::string description)
        : session_(std::move(session)), description_("postgresql " + std::move(description)) {}

    core::expected<void> put(const stored_response& r) override {
        auto result =
            run(put_failed, put_sql,
                {r.id, std::to_string(r.created_at), r.response, r.conversation}, PGRES_COMMAND_OK);
        if (!result) {
            return core::unexpected(result.error());
        }
        return {};
    }

    core::expected<std::optional<stored_response>> get(const std::string& id) override {
        auto result = run(get_failed, get_sql, {id}, PGRES_TUPLES_OK);
        if (!result) {
            return core::unexpected(result.error());
        }
        const PGresult* r = result->get();
        if (PQntuples(r) == 0) {
            return std::nullopt;
        }

        stored_response found{id, 0, text_value(r, 0, 1), text_value(r, 0, 2)};
        const std::string created = text_value(r, 0, 0);
        const auto [end, ec] =
            std::from_chars(created.data(), created.data() + created.size(), found.created_at);
        if (ec != std::errc() || end != created.data() + created.size()) {
            return core::unexpected(store_error(core::error_code::internal, get_failed,
                                                "postgresql get: created_at is not a number"));
        }
        return found;
    }

    core::expected<bool> remove(const std::string& id) override {
        auto result = run(remove_failed, remove_sql, {id}, PGRES_COMMAND_OK);
        if (!result) {
            return core::unexpected(result.error());
        }
        return std::string_view(PQcmdTuples(result->get())) != "0";
    }

    std::string describe() const override { return description_; }

private:
    // Runs one statement; when the connection turns out to be broken (the
    // server restarted, a proxy dropped it), resets it and runs the statement
    // once more. Each statement is its own transaction and an upsert or a
    // lookup by id, so running it twice does no harm; a remove whose first
    // run committed before the connection broke reports false the second time.
    core::expected<pg::result_ptr> run(const char* public_message, const char* sql,
                                       const std::vector<std::string>& params,
                                       ExecStatusType want) {
        std::lock_guard lock(mutex_);
        PGconn* conn = session_.conn.get();

        pg::result_ptr r = pg::exec(conn, sql, params);
        if (pg::succeeded(r, want)) {
            return r;
        }
        if (PQstatus(conn) == CONNECTION_OK) {
            // The server answered: retrying an SQL error changes nothing.
            return core::unexpected(failure(core::error_code::internal, public_message, "query",
                                            pg::reason(conn, r, session_.password)));
        }

        core::log::warn(*logger(), "store.reconnecting", {{"backend", "postgresql"}});
        PQreset(conn);
        if (PQstatus(conn) != CONNECTION_OK) {
            return core::unexpected(failure(core::error_code::unavailable, public_message,
                                            "reconnect",
                                            pg::connection_reason(conn, session_.password)));
        }
        r = pg::exec(conn, sql, params);
        if (pg::succeeded(r, want)) {
            return r;
        }
        const auto code = PQstatus(conn) == CONNECTION_OK ? core::error_code::internal
                                                          : core::error_code::unavailable;
        return core::unexpected(
            failure(code, public_message, "query", pg::reason(conn, r, session_.password)));
    }

    // One connection, so one statement at a time.
    std::mutex mutex_;
    pg::session session_;
    std::string description_;
};

// The steps of the schema transaction, after BEGIN; the caller commits, or
// rolls back on an error.
core::expected<void> migrate(const pg::session& s) {
    PGconn* conn = s.conn.get();
    const auto step = [&](const char* sql, const std::vector<std::string>& params,
                          ExecStatusType want) -> core::expected<pg::result_ptr> {
        pg::result_ptr r = pg::exec(conn, sql, params);
        if (!pg::succeeded(r, want)) {
            return core::unexpected(failure(core::error_code::internal, open_failed, "schema",
                                            pg::reason(conn, r, s.password)));
        }
        return r;
    };

    const char* lock = "SELECT pg_advisory_xact_lock($1::bigint)";
    if (auto locked = step(lock, {schema_lock_key}, PGRES_TUPLES_OK); !locked) {
        return core::unexpected(locked.error());
    }
    if (auto made = step(create_version_table, {}, PGRES_COMMAND_OK); !made) {
        return core::unexpected(made.error());
    }
    auto current =
        step("SELECT COALESCE(MAX(version), 0) FROM osprey_schema_version", {}, PGRES_TUPLES_OK);
    if (!current) {
        return core::unexpected(current.error());
    }

    const std::string text = text_value(current->get(), 0, 0);
    size_t version = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (ec != std::errc() || end != text.data() + text.size() || version > migrations.size()) {
        return core::unexpected(store_error(
            core::error_code::internal, open_failed,
            "postgresql: the database has schema version " + text +
                ", which this osprey does not know (it knows 0 to " +
                std::to_string(migrations.size()) + "): was it written by a newer osprey?"));
    }

    for (size_t i = version; i < migrations.size(); ++i) {
        if (auto done = step(migrations[i], {}, PGRES_COMMAND_OK); !done) {
            return core::unexpected(done.error());
        }
        const char* record = "INSERT INTO osprey_schema_version (version) VALUES ($1::integer)";
        if (auto done = step(record, {std::to_string(i + 1)}, PGRES_COMMAND_OK); !done) {
            return core::unexpected(done.error());
        }
    }
    return {};
}

// Creates or migrates the schema in one transaction.
core::expected<void> ensure_schema(const pg::session& s) {
    PGconn* conn = s.conn.get();
    if (!pg::succeeded(pg::exec(conn, "BEGIN"), PGRES_COMMAND_OK)) {
        return core::unexpected(failure(core::error_code::internal, open_failed, "begin",
                                        pg::connection_reason(conn, s.password)));
    }
    auto migrated = migrate(s);
    if (!migrated) {
        pg::exec(conn, "ROLLBACK");
        return migrated;
    }
    pg::result_ptr committed = pg::exec(conn, "COMMIT");
    if (!pg::succeeded(committed, PGRES_COMMAND_OK)) {
        return core::unexpected(failure(core::error_code::internal, open_failed, "commit",
                                        pg::reason(conn, committed, s.password)));
    }
    return {};
}

}  // namespace

core::expected<std::unique_ptr<response_store>> open_postgresql_store(const std::string& url) {
    auto session = pg::connect(url);
    if (!session) {
        return core::unexpected(session.error());
    }
    if (auto schema = ensure_schema(*session); !schema) {
        return core::unexpected(schema.error());
    }
    std::string description = pg::describe(session->conn.get());
    return std::make_unique<postgresql_store>(std::move(*session), std::move(description));
}

}  // namespace osprey::store
