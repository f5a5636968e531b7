#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace osprey::testing {

// A tiny HTTP/1.1 server on one loopback address, for tests of code that
// fetches: each path answers with a fixed raw response (status line, headers
// and body as written, so a test can lie in Content-Length or never end),
// and every request is counted. One connection at a time; closes after each.
class loopback_http_server {
public:
    // Binds `address` (e.g. "127.0.0.1", "127.0.0.2") on `port`, or on a
    // free one when `port` is 0.
    explicit loopback_http_server(const std::string& address, int port = 0);
    ~loopback_http_server();

    // `raw` is sent as is; `then_stall` keeps the connection open afterwards,
    // sending nothing more until the client leaves, for timeout tests.
    void route(const std::string& path, std::string raw, bool then_stall = false);

    int port() const { return port_; }
    int requests() const { return requests_.load(); }
    std::string last_request() const;

    static std::string response(int status, const std::string& headers, const std::string& body);

private:
    void serve();
    void answer(int client);

    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> requests_{0};
    mutable std::mutex mutex_;
    std::map<std::string, std::pair<std::string, bool>> routes_;
    std::string last_request_;
    std::thread thread_;
};

}  // namespace osprey::testing
