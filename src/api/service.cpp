#include "api/service.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

#include "api/anthropic_format.hpp"
#include "api/anthropic_request.hpp"
#include "api/openai_format.hpp"
#include "api/openai_request.hpp"
#include "core/log.hpp"
#include "engine/engine.hpp"

namespace osprey::api {

namespace {

using json = nlohmann::ordered_json;

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto l = core::log::get("api");
    return l;
}

spdlog::level::level_enum level_for(int status) {
    if (status >= 500) {
        return spdlog::level::err;
    }
    if (status == 401 || status == 429) {
        return spdlog::level::warn;
    }
    return spdlog::level::info;
}

// Anthropic's routes, whose errors take Anthropic's shape; every other
// path, unknown ones included, answers in OpenAI's.
bool anthropic_path(const std::string& path) {
    return path == "/v1/messages" || path.rfind("/v1/messages/", 0) == 0;
}

int64_t unix_time() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

service::service(service_options options) : options_(std::move(options)) {
    auto bind = [this](auto member) {
        return [this, member](const request& r, std::shared_ptr<exchange> ex) {
            (this->*member)(r, std::move(ex));
        };
    };
    routes_ = {
        {"GET", "/health", bind(&service::handle_health), false},
        {"GET", "/v1/models", bind(&service::handle_models)},
        {"GET", "/v1/models/" + options_.model_id, bind(&service::handle_model)},
        {"POST", "/v1/chat/completions", bind(&service::handle_chat)},
        {"POST", "/v1/completions", bind(&service::handle_completions)},
        {"POST", "/v1/messages", bind(&service::handle_messages)},
        {"POST", "/v1/messages/count_tokens", bind(&service::handle_count_tokens)},
    };
}

void service::set_engine(engine::engine* e) {
    engine_.store(e);
}

void service::respond_error(exchange& ex, const std::string& path, const std::string& request_id,
                            const core::error& e, header_list headers) const {
    const int status = core::http_status(e.code);
    core::log::write(*logger(), level_for(status), "request.error",
                     {{"req", request_id},
                      {"path", path},
                      {"status", status},
                      {"code", core::name(e.code)},
                      {"param", e.param},
                      {"detail", e.internal_detail}});
    if (e.code == core::error_code::too_many_requests) {
        headers.emplace_back("Retry-After", "1");
    }
    ex.send(status,
            anthropic_path(path) ? anthropic::error_body(e, request_id) : openai::error_body(e),
            std::move(headers));
}

void service::begin_drain() {
    draining_ = true;
}

void service::handle_health(const request&, std::shared_ptr<exchange> ex) const {
    if (draining_) {
        ex->send(503, json{{"status", "draining"}}.dump());
        return;
    }
    if (engine_.load() == nullptr) {
        ex->send(503, json{{"status", "loading"}}.dump());
        return;
    }
    ex->send(200, json{{"status", "ok"}}.dump());
}

json service::model_object() const {
    return {{"id", options_.model_id},
            {"object", "model"},
            {"created", unix_time()},
            {"owned_by", "osprey"}};
}

void service::handle_models(const request&, std::shared_ptr<exchange> ex) const {
    ex->send(200, json{{"object", "list"}, {"data", json::array({model_object()})}}.dump());
}

void service::handle_model(const request&, std::shared_ptr<exchange> ex) const {
    ex->send(200, model_object().dump());
}

void service::handle_chat(const request& r, std::shared_ptr<exchange> ex) const {
    auto c = admit(r, ex, openai::parse_chat_request(r.body));
    if (!c) {
        return;
    }
    c->format = openai::make_formatter(openai::endpoint::chat, options_.model_id,
                                       c->request.stream && c->request.include_usage,
                                       c->request.top_logprobs >= 0);
    start_generation(std::move(*c));
}

void service::handle_completions(const request& r, std::shared_ptr<exchange> ex) const {
    auto c = admit(r, ex, openai::parse_completion_request(r.body));
    if (!c) {
        return;
    }
    c->format = openai::make_formatter(openai::endpoint::completions, options_.model_id,
                                       c->request.stream && c->request.include_usage,
                                       c->request.top_logprobs >= 0);
    start_generation(std::move(*c));
}

void service::handle_messages(const request& r, std::shared_ptr<exchange> ex) const {
    auto c = admit(r, ex, anthropic::parse_messages_request(r.body));
    if (!c) {
        return;
    }
    c->format = anthropic::make_formatter(options_.model_id);
    start_generation(std::move(*c));
}

void service::handle_count_tokens(const request& r, std::shared_ptr<exchange> ex) const {
    auto c = admit(r, ex, anthropic::parse_count_tokens_request(r.body));
    if (!c) {
        return;
    }
    start_token_count(std::move(*c), anthropic::count_tokens_body);
}

bool service::serves(const std::string& model) const {
    if (model == options_.model_id) {
        return true;
    }
    for (const auto& id : options_.other_ids) {
        if (model == id) {
            return true;
        }
    }
    return false;
}

std::optional<generation_context> service::admit(const request& r, std::shared_ptr<exchange> ex,
                                                 core::expected<core::chat_request> parsed) const {
    if (!parsed) {
        respond_error(*ex, r.path, r.request_id, parsed.error());
        return std::nullopt;
    }
    if (!serves(parsed->model)) {
        respond_error(*ex, r.path, r.request_id,
                      core::make_error(core::error_code::model_not_found,
                                       "The model '" + parsed->model +
                                           "' does not exist. This server serves '" +
                                           options_.model_id + "'.",
                                       "model"));
        return std::nullopt;
    }
    if (draining_) {
        respond_error(*ex, r.path, r.request_id,
                      core::make_error(core::error_code::unavailable,
                                       "The server is shutting down. Retry on another."));
        return std::nullopt;
    }
    engine::engine* engine = engine_.load();
    if (engine == nullptr) {
        respond_error(*ex, r.path, r.request_id,
                      core::make_error(core::error_code::unavailable,
                                       "The model is still loading. Retry shortly."));
        return std::nullopt;
    }

    generation_context c;
    ++*in_flight_;
    c.in_flight = std::shared_ptr<void>(nullptr, [count = in_flight_](void*) { --*count; });
    c.ex = ex;
    c.engine = engine;
    c.gate = options_.gate;
    c.request = std::move(*parsed);
    c.request_id = r.request_id;
    if (options_.request_timeout.count() > 0) {
        c.deadline = std::chrono::steady_clock::now() + options_.request_timeout;
    }
    c.run_blocking = options_.run_blocking;
    c.respond_error = [this, ex, path = r.path, id = r.request_id](const core::error& e) {
        respond_error(*ex, path, id, e);
    };
    return c;
}

}  // namespace osprey::api
