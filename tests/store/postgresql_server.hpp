#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

#include "scratch_dir.hpp"

namespace osprey::store::testing {

// A private PostgreSQL server for one test, from Debian's packages: a fresh
// cluster in a temporary folder, listening on 127.0.0.1 only, at a free
// port, its unix socket inside that folder, and trust authentication for
// 127.0.0.1 only (pg_hba.conf has that one line). Run as the `postgres` user
// when the test runs as root, since PostgreSQL refuses to run as root.
//
// The server is a child of the test process, started from the test's main
// thread. It is stopped, and its folder removed, when the object goes, which
// a failed assertion does not skip; if the test process dies first, the
// kernel sends the server SIGQUIT (PR_SET_PDEATHSIG), so no server outlives
// its test either way.
//
// Throws std::runtime_error, with the server's log, when the binaries are
// missing or the server cannot start: a missing PostgreSQL fails the test
// instead of skipping it.
class postgresql_server {
public:
    postgresql_server();
    ~postgresql_server();

    postgresql_server(const postgresql_server&) = delete;
    postgresql_server& operator=(const postgresql_server&) = delete;

    // A fast shutdown: open connections are cut, as in a real restart.
    void stop();
    // Starts again on the same port, with the same data.
    void start();

    int port() const { return port_; }

    // postgresql://osprey_test@127.0.0.1:<port>/postgres, with `password`
    // in the userinfo when one is given (trust authentication ignores it).
    std::string url(const std::string& password = {}) const;

    // The first value of the first row of `sql` (test-made, constant SQL),
    // run as the superuser; throws when it fails.
    std::string query(const std::string& sql) const;

private:
    struct account;

    void init_cluster();
    bool try_start();
    bool is_ready() const;

    std::unique_ptr<account> account_;
    std::filesystem::path bin_;
    osprey::testing::scratch_dir dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace osprey::store::testing
