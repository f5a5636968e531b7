#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/exchange.hpp"

namespace osprey::http {

class session;

// The api::exchange of one request on one connection. Its public members may
// be called from any thread and post onto the connection's strand; its state
// below is touched only on that strand.
class connection_exchange : public api::exchange,
                            public std::enable_shared_from_this<connection_exchange> {
public:
    connection_exchange(std::shared_ptr<session> owner, std::string request_id, std::string method,
                        std::string path);

    void send(int status, std::string body, api::header_list headers) override;
    void start_stream() override;
    void send_event(api::stream_event e) override;
    void end_stream() override;
    void annotate(std::string key, int64_t value) override;
    void post(std::function<void()> work) override;
    void on_disconnect(std::function<void()> callback) override;

    const std::string& request_id() const { return request_id_; }
    const std::string& path() const { return path_; }

    // Strand only. Runs the disconnect callback, at most once.
    void notify_disconnect();
    // Strand only. Logs the request's one summary line.
    void log_summary(int status) const;

    // Set by the router when the request's Origin may read the response.
    api::header_list cors_headers;
    bool finished = false;  // the last byte of the response is queued
    bool streaming = false;
    int status = 0;

private:
    std::shared_ptr<session> owner_;
    const std::string request_id_;
    const std::string method_;
    const std::string path_;
    const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::function<void()> disconnect_callback_;
    bool disconnected_ = false;
    std::vector<std::pair<std::string, int64_t>> annotations_;
};

}  // namespace osprey::http
