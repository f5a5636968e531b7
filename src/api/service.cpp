#include "api/service.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

#include "api/anthropic_format.hpp"
#include "api/anthropic_request.hpp"
#include "api/openai_format.hpp"
#include "api/openai_request.hpp"
#include "api/responses_format.hpp"
#include "core/log.hpp"
#include "engine/engine.hpp"
#include "store/response_store.hpp"

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

bool service::route::matches(const std::string& request_path) const {
    static constexpr std::string_view any_id = "{id}";
    if (!path.ends_with(any_id)) {
        return request_path == path;
    }
    const std::string_view prefix = std::string_view(path).substr(0, path.size() - any_id.size());
    return request_path.size() > prefix.size() && request_path.starts_with(prefix) &&
           request_path.find('/', prefix.size()) == std::string::npos;
}

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
        {"POST", "/v1/responses", bind(&service::handle_responses)},
        {"GET", "/v1/responses/{id}", bind(&service::handle_get_response)},
        {"DELETE", "/v1/responses/{id}", bind(&service::handle_delete_response)},
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

namespace {

core::error response_not_found(const std::string& id, const char* param) {
    return core::make_error(core::error_code::response_not_found,
                            "No response found with id '" + id + "'.", param);
}

std::string response_id_of(const request& r) {
    return r.path.substr(r.path.rfind('/') + 1);
}

}  // namespace

void service::handle_responses(const request& r, std::shared_ptr<exchange> ex) const {
    auto parsed = responses::parse_request(r.body);
    if (!parsed) {
        respond_error(*ex, r.path, r.request_id, parsed.error());
        return;
    }
    auto request = std::make_shared<responses::responses_request>(std::move(*parsed));
    if (request->previous_response_id.empty()) {
        start_response(r, std::move(ex), std::move(request), nlohmann::json::array());
        return;
    }
    if (options_.responses == nullptr) {
        respond_error(*ex, r.path, r.request_id,
                      response_not_found(request->previous_response_id, "previous_response_id"));
        return;
    }
    // The earlier conversation comes from the store, off the I/O threads.
    options_.run_blocking([this, r, ex, request] {
        auto stored = options_.responses->get(request->previous_response_id);
        ex->post([this, r, ex, request, stored = std::move(stored)] {
            if (!stored) {
                respond_error(*ex, r.path, r.request_id, stored.error());
                return;
            }
            if (!*stored) {
                respond_error(
                    *ex, r.path, r.request_id,
                    response_not_found(request->previous_response_id, "previous_response_id"));
                return;
            }
            auto earlier = nlohmann::json::parse((*stored)->conversation, nullptr, false);
            if (!earlier.is_array()) {
                core::error e = core::make_error(core::error_code::internal,
                                                 "The previous response could not be read back.");
                e.internal_detail = "stored conversation is not a JSON array";
                respond_error(*ex, r.path, r.request_id, e);
                return;
            }
            start_response(r, ex, request, std::move(earlier));
        });
    });
}

void service::start_response(const request& r, std::shared_ptr<exchange> ex,
                             std::shared_ptr<responses::responses_request> parsed,
                             nlohmann::json earlier) const {
    if (auto ok = responses::build_messages(*parsed, earlier); !ok) {
        respond_error(*ex, r.path, r.request_id, ok.error());
        return;
    }
    auto c = admit(r, ex, parsed->chat);
    if (!c) {
        return;
    }
    responses::response_keeper keep;
    if (auto* store = options_.responses) {
        keep = [store, run = options_.run_blocking, request_id = r.request_id](
                   std::string id, int64_t created_at, std::string response,
                   std::string conversation, std::function<void()> then) {
            run([store, request_id, then = std::move(then),
                 kept = store::stored_response{std::move(id), created_at, std::move(response),
                                               std::move(conversation)}] {
                if (auto ok = store->put(kept); !ok) {
                    // The client still gets its answer; only GET and
                    // previous_response_id will not find it.
                    core::log::error(*logger(), "responses.store_failed",
                                     {{"req", request_id},
                                      {"response", kept.id},
                                      {"detail", ok.error().internal_detail}});
                }
                then();
            });
        };
    } else {
        parsed->store = false;  // said so in the response: nothing keeps it
    }
    c->format =
        responses::make_formatter(*parsed, options_.model_id, std::move(earlier), std::move(keep));
    start_generation(std::move(*c));
}

void service::handle_get_response(const request& r, std::shared_ptr<exchange> ex) const {
    const std::string id = response_id_of(r);
    if (options_.responses == nullptr) {
        respond_error(*ex, r.path, r.request_id, response_not_found(id, ""));
        return;
    }
    options_.run_blocking([this, r, ex, id] {
        auto stored = options_.responses->get(id);
        if (!stored) {
            respond_error(*ex, r.path, r.request_id, stored.error());
        } else if (!*stored) {
            respond_error(*ex, r.path, r.request_id, response_not_found(id, ""));
        } else {
            ex->send(200, std::move((*stored)->response));
        }
    });
}

void service::handle_delete_response(const request& r, std::shared_ptr<exchange> ex) const {
    const std::string id = response_id_of(r);
    if (options_.responses == nullptr) {
        respond_error(*ex, r.path, r.request_id, response_not_found(id, ""));
        return;
    }
    options_.run_blocking([this, r, ex, id] {
        auto removed = options_.responses->remove(id);
        if (!removed) {
            respond_error(*ex, r.path, r.request_id, removed.error());
        } else if (!*removed) {
            respond_error(*ex, r.path, r.request_id, response_not_found(id, ""));
        } else {
            ex->send(200, responses::deleted_body(id));
        }
    });
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
