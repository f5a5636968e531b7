#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/error.hpp"

// Where the Responses API keeps what `store: true` asks it to keep, so that
// GET /v1/responses/{id} can return it and a later request naming it as
// previous_response_id can continue from it. One process uses the embedded
// SQLite file; several replicas behind a load balancer share PostgreSQL.
namespace osprey::store {

// One stored response. The store treats both JSON texts as opaque bytes and
// returns them exactly as they were put: it never parses or reformats them.
struct stored_response {
    std::string id;            // "resp_...", chosen by the caller
    int64_t created_at = 0;    // unix seconds
    std::string response;      // the Response object, JSON text, exactly as GET returns it
    std::string conversation;  // JSON text: the input and output items a continuation replays
};

// Thread-safe: calls from several threads are serialised on one connection.
// Every call blocks on the disk or the network, so callers run it on a
// worker thread, never on an I/O thread.
//
// Errors: `internal` for a failure of the store itself, `unavailable` when
// a database server cannot be reached. The public message never names a
// path, a host or a user; the internal detail says what failed, for the log,
// and never holds a password.
class response_store {
public:
    virtual ~response_store() = default;

    // Inserts the response, or replaces the one with the same id. Durable
    // once it returns: each put is one committed transaction.
    virtual core::expected<void> put(const stored_response& r) = 0;

    // The response with this id, or nullopt when there is none.
    virtual core::expected<std::optional<stored_response>> get(const std::string& id) = 0;

    // Deletes the response with this id; false when there was none.
    virtual core::expected<bool> remove(const std::string& id) = 0;

    // For the start-up log line: "sqlite /path/responses.db" or
    // "postgresql host:port/db". Never holds a password.
    virtual std::string describe() const = 0;
};

// Opens (creating it, and data_dir with mode 0700, if missing)
// data_dir/responses.db and brings its schema up to date. A database
// written by a newer osprey, whose schema this one does not know, is refused.
core::expected<std::unique_ptr<response_store>> open_sqlite_store(const std::string& data_dir);

// Connects to `url` (postgresql://user:pass@host:port/db?..., or any
// connection string libpq takes) and brings the schema up to date, safely
// against other replicas doing the same at once. Errors: `unavailable` when
// the server cannot be reached, `internal` for anything else.
core::expected<std::unique_ptr<response_store>> open_postgresql_store(const std::string& url);

}  // namespace osprey::store
