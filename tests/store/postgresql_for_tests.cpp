// osprey-test-postgresql: a private PostgreSQL server for the end-to-end
// tests, as tests/store's own tests start one (postgresql_server.hpp). Prints
// the server's URL on one line, then serves until its stdin closes, and stops
// the server as it exits; if it is killed, the kernel stops the server too.
#include <cstdio>
#include <exception>
#include <iostream>
#include <limits>

#include "postgresql_server.hpp"

int main() {
    try {
        osprey::store::testing::postgresql_server server;
        std::cout << server.url() << std::endl;
        std::cin.ignore(std::numeric_limits<std::streamsize>::max());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "osprey-test-postgresql: %s\n", e.what());
        return 1;
    }
    return 0;
}
