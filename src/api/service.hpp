#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/exchange.hpp"
#include "api/generation.hpp"
#include "api/responses_request.hpp"
#include "core/error.hpp"

namespace osprey::engine {
class engine;
}

namespace osprey::media {
class media_gate;
}

namespace osprey::store {
class response_store;
}

namespace osprey::api {

struct service_options {
    std::string model_id;                // what /v1/models shows: the alias, or the file's stem
    std::vector<std::string> other_ids;  // also accepted in requests (the stem, under an alias)
    blocking_runner run_blocking;
    const media::media_gate* gate = nullptr;  // every media part goes through it
    // How long a generating request may take from its arrival, queue and
    // media fetches included (--request-timeout); zero: no limit.
    std::chrono::milliseconds request_timeout{0};
    // Where the Responses API keeps responses (store: true) for GET, DELETE
    // and previous_response_id; none: nothing is kept.
    store::response_store* responses = nullptr;
};

// Every route osprey serves, and the one place that turns an error into an
// API-shaped response. Handlers run on the connection's strand.
class service {
public:
    using handler = std::function<void(const request&, std::shared_ptr<exchange>)>;

    struct route {
        std::string method;
        // A path, or a prefix ending in "/{id}" that matches one more
        // segment (GET /v1/responses/{id}).
        std::string path;
        handler handle;
        bool requires_key = true;  // false only for /health

        bool matches(const std::string& request_path) const;
    };

    explicit service(service_options options);

    // Thread-safe. Until an engine is set, /health answers 503 and the model
    // routes answer 503 too. The engine must outlive the service's use of it.
    void set_engine(engine::engine* e);

    // Thread-safe. From now on generating routes answer 503 and /health says
    // "draining", while requests already taken go on to their end.
    void begin_drain();

    // Generating requests taken and not yet answered in full, counted from
    // the moment they are parsed to the last byte handed to the connection.
    int in_flight() const { return in_flight_->load(); }

    const std::vector<route>& routes() const { return routes_; }
    const std::string& model_id() const { return options_.model_id; }

    // Sends `e` in the error shape of the API that `path` belongs to, with
    // the request id, and logs the internal detail under the same id.
    void respond_error(exchange& ex, const std::string& path, const std::string& request_id,
                       const core::error& e, header_list headers = {}) const;

private:
    void handle_health(const request& r, std::shared_ptr<exchange> ex) const;
    void handle_models(const request& r, std::shared_ptr<exchange> ex) const;
    void handle_model(const request& r, std::shared_ptr<exchange> ex) const;
    nlohmann::ordered_json model_object() const;
    void handle_chat(const request& r, std::shared_ptr<exchange> ex) const;
    void handle_completions(const request& r, std::shared_ptr<exchange> ex) const;
    void handle_messages(const request& r, std::shared_ptr<exchange> ex) const;
    void handle_count_tokens(const request& r, std::shared_ptr<exchange> ex) const;
    void handle_responses(const request& r, std::shared_ptr<exchange> ex) const;
    void start_response(const request& r, std::shared_ptr<exchange> ex,
                        std::shared_ptr<responses::responses_request> parsed,
                        nlohmann::json earlier) const;
    void handle_get_response(const request& r, std::shared_ptr<exchange> ex) const;
    void handle_delete_response(const request& r, std::shared_ptr<exchange> ex) const;
    bool serves(const std::string& model) const;
    // The checks every generating route makes before any work: a request
    // that parsed, for a model served here, while an engine is ready. On
    // failure it has answered, and returns nothing.
    std::optional<generation_context> admit(const request& r, std::shared_ptr<exchange> ex,
                                            core::expected<core::chat_request> parsed) const;

    service_options options_;
    std::atomic<engine::engine*> engine_{nullptr};
    std::atomic<bool> draining_{false};
    // Shared with the tokens each request holds, which may outlive the
    // service when shutdown gives up waiting for them.
    std::shared_ptr<std::atomic<int>> in_flight_ = std::make_shared<std::atomic<int>>(0);
    std::vector<route> routes_;
};

}  // namespace osprey::api
