#include "store/postgresql_connection.hpp"

#include <cstring>

#include "store/store_error.hpp"

namespace osprey::store::pg {

namespace {

// Replaces every occurrence of `secret` in `text`, and folds the text onto
// one line: libpq's messages end in a newline and some span several.
std::string scrub(std::string text, const std::string& secret) {
    if (!secret.empty()) {
        for (size_t at = text.find(secret); at != std::string::npos;
             at = text.find(secret, at + 3)) {
            text.replace(at, secret.size(), "***");
        }
    }
    for (char& c : text) {
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    while (!text.empty() && text.back() == ' ') {
        text.pop_back();
    }
    return text;
}

// The password the URL carries (in its userinfo or as ?password=), so that
// it can be scrubbed from libpq's messages later. libpq's own reason for a
// URL that does not parse is withheld: some of its messages quote the part
// that failed, and that part may be the password.
core::expected<std::string> url_password(const std::string& url) {
    char* parse_error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &parse_error);
    if (options == nullptr) {
        PQfreemem(parse_error);
        return core::unexpected(store_error(
            core::error_code::internal, open_failed,
            "postgresql: libpq cannot parse the connection URL (its reason is not logged, "
            "since it may quote the password)"));
    }
    std::string password;
    for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr) {
            password = o->val;
        }
    }
    PQconninfoFree(options);
    return password;
}

// libpq prints notices ("relation already exists, skipping") on stderr by
// default; the store has nothing to learn from them.
void ignore_notice(void*, const char*) {}

}  // namespace

core::expected<session> connect(const std::string& url) {
    auto password = url_password(url);
    if (!password) {
        return core::unexpected(password.error());
    }

    // Bounds on every wait, so that a server that stops answering fails a
    // call instead of holding the store's one connection (and every caller
    // queued behind it) until the kernel gives up: seconds to connect,
    // milliseconds of unacknowledged data, a server-side statement limit.
    // Later entries override earlier ones, so the URL may set its own, but
    // not the client encoding: the store sends and expects UTF-8.
    const char* const keys[] = {
        "connect_timeout", "tcp_user_timeout", "options", "application_name",
        "dbname",          "client_encoding",  nullptr};
    const char* const values[] = {
        "10", "30000", "-c statement_timeout=30s", "osprey", url.c_str(), "UTF8", nullptr};
    connection_ptr conn(PQconnectdbParams(keys, values, 1));
    if (conn == nullptr) {
        return core::unexpected(store_error(core::error_code::internal, open_failed,
                                            "postgresql: libpq could not allocate a connection"));
    }
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        return core::unexpected(
            store_error(core::error_code::unavailable, open_failed,
                        "postgresql: cannot connect: " + connection_reason(conn.get(), *password)));
    }
    PQsetNoticeProcessor(conn.get(), ignore_notice, nullptr);
    return session{std::move(conn), std::move(*password)};
}

std::string describe(PGconn* conn) {
    const auto text = [](const char* s) {
        return s != nullptr ? std::string(s) : std::string();
    };
    return text(PQhost(conn)) + ":" + text(PQport(conn)) + "/" + text(PQdb(conn));
}

result_ptr exec(PGconn* conn, const char* sql, const std::vector<std::string>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const std::string& p : params) {
        values.push_back(p.c_str());
    }
    return result_ptr(PQexecParams(conn, sql, static_cast<int>(values.size()), nullptr,
                                   values.data(), nullptr, nullptr, 0));
}

bool succeeded(const result_ptr& r, ExecStatusType want) {
    return r != nullptr && PQresultStatus(r.get()) == want;
}

std::string reason(PGconn* conn, const result_ptr& r, const std::string& password) {
    if (r == nullptr) {
        return connection_reason(conn, password);
    }
    std::string message = scrub(PQresultErrorMessage(r.get()), password);
    return message.empty() ? PQresStatus(PQresultStatus(r.get())) : message;
}

std::string connection_reason(PGconn* conn, const std::string& password) {
    return scrub(PQerrorMessage(conn), password);
}

}  // namespace osprey::store::pg
