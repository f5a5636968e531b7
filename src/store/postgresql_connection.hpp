#pragma once

#include <memory>
#include <string>
#include <vector>

#include <libpq-fe.h>

#include "core/error.hpp"

// libpq's connection and results as owned handles, and the few calls the
// PostgreSQL store makes with them. Not thread-safe: the store's mutex guards
// each connection.
namespace osprey::store::pg {

struct connection_closer {
    void operator()(PGconn* c) const { PQfinish(c); }
};
struct result_clearer {
    void operator()(PGresult* r) const { PQclear(r); }
};
using connection_ptr = std::unique_ptr<PGconn, connection_closer>;
using result_ptr = std::unique_ptr<PGresult, result_clearer>;

// An open connection, and the password it was opened with, which every
// message taken from libpq is scrubbed of before it goes anywhere.
struct session {
    connection_ptr conn;
    std::string password;
};

// Connects to `url` (a postgresql:// URL or a libpq key=value string).
// Errors: `unavailable` when the server cannot be reached or refuses us,
// `internal` when the URL does not parse.
core::expected<session> connect(const std::string& url);

// "host:port/db" of the live connection, for the start-up log line.
std::string describe(PGconn* conn);

// Runs one statement with text parameters ($1, $2, ...): values never
// become part of the SQL text.
result_ptr exec(PGconn* conn, const char* sql, const std::vector<std::string>& params = {});

// True when `r` has the status `want` (PGRES_COMMAND_OK, PGRES_TUPLES_OK).
bool succeeded(const result_ptr& r, ExecStatusType want);

// The reason `r` failed (or the connection's, when there is no result),
// scrubbed of the password, on one line.
std::string reason(PGconn* conn, const result_ptr& r, const std::string& password);

// libpq's last connection error, scrubbed of the password, on one line.
std::string connection_reason(PGconn* conn, const std::string& password);

}  // namespace osprey::store::pg
