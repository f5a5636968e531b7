#pragma once

// The two backends, each as something a typed test can hold: open() opens a
// store on the backend's data, restart() makes the data outlive everything
// but itself (for PostgreSQL, the server restarts).

#include <memory>
#include <string>

#include "postgresql_server.hpp"
#include "scratch_dir.hpp"
#include "store/response_store.hpp"

namespace osprey::store::testing {

class sqlite_backend {
public:
    core::expected<std::unique_ptr<response_store>> open() {
        return open_sqlite_store((dir_.path() / "data").string());
    }

    // The file is all there is: the store is closed and opened again.
    void restart() {}

private:
    osprey::testing::scratch_dir dir_;
};

class postgresql_backend {
public:
    core::expected<std::unique_ptr<response_store>> open() {
        return open_postgresql_store(server_.url());
    }

    void restart() {
        server_.stop();
        server_.start();
    }

    postgresql_server& server() { return server_; }

private:
    postgresql_server server_;
};

}  // namespace osprey::store::testing
