#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The boundary between the HTTP layer and the API adapters. src/http
// implements `exchange` over a connection; the adapters see only this, so
// they never touch sockets, and the HTTP layer never parses API JSON.
namespace osprey::api {

using header_list = std::vector<std::pair<std::string, std::string>>;

// One Server-Sent Event. `data` is a single line (the formatters write
// compact JSON); `name`, when set, becomes the event's `event:` field, which
// Anthropic's streams carry and OpenAI's do not.
struct stream_event {
    std::string name;
    std::string data;
};

struct request {
    std::string method;
    std::string path;  // without the query string
    std::string body;
    std::string request_id;
};

// One request's response channel. Every member may be called from any
// thread: the implementation runs the work on the connection's own strand,
// in call order. After `send` or `end_stream` further calls do nothing.
class exchange {
public:
    virtual ~exchange() = default;

    // A complete response with a JSON body.
    virtual void send(int status, std::string body, header_list headers = {}) = 0;

    // Starts a 200 `text/event-stream` response; then `send_event` writes one
    // SSE event per call and `end_stream` closes it.
    virtual void start_stream() = 0;
    virtual void send_event(stream_event e) = 0;
    virtual void end_stream() = 0;

    // Adds a figure to the request's summary log line (tokens in and out).
    virtual void annotate(std::string key, int64_t value) = 0;

    // Runs `work` on the connection's strand, after everything posted before.
    virtual void post(std::function<void()> work) = 0;

    // `callback` runs once, on the strand, if the client goes away before the
    // response is complete. Set it before starting to stream.
    virtual void on_disconnect(std::function<void()> callback) = 0;
};

}  // namespace osprey::api
