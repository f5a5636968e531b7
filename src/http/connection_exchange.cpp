#include "http/connection_exchange.hpp"

#include <boost/asio/post.hpp>

#include "core/log.hpp"
#include "http/session.hpp"

namespace osprey::http {

connection_exchange::connection_exchange(std::shared_ptr<session> owner, std::string request_id,
                                         std::string method, std::string path)
    : owner_(std::move(owner)),
      request_id_(std::move(request_id)),
      method_(std::move(method)),
      path_(std::move(path)) {}

void connection_exchange::post(std::function<void()> work) {
    boost::asio::post(owner_->socket_.get_executor(), std::move(work));
}

void connection_exchange::send(int status, std::string body, api::header_list headers) {
    post([self = shared_from_this(), status, body = std::move(body),
          headers = std::move(headers)]() mutable {
        self->owner_->send_response(*self, status, std::move(body), headers);
    });
}

void connection_exchange::start_stream() {
    post([self = shared_from_this()] { self->owner_->start_stream(*self); });
}

void connection_exchange::send_event(api::stream_event e) {
    post([self = shared_from_this(), e = std::move(e)]() mutable {
        self->owner_->send_event(*self, std::move(e));
    });
}

void connection_exchange::end_stream() {
    post([self = shared_from_this()] { self->owner_->end_stream(*self); });
}

void connection_exchange::annotate(std::string key, int64_t value) {
    post([self = shared_from_this(), key = std::move(key), value]() mutable {
        self->annotations_.emplace_back(std::move(key), value);
    });
}

void connection_exchange::on_disconnect(std::function<void()> callback) {
    post([self = shared_from_this(), callback = std::move(callback)]() mutable {
        // The client may have left while the request was being prepared.
        if (self->disconnected_) {
            callback();
            return;
        }
        self->disconnect_callback_ = std::move(callback);
    });
}

void connection_exchange::notify_disconnect() {
    disconnected_ = true;
    if (auto callback = std::exchange(disconnect_callback_, nullptr)) {
        callback();
    }
}

void connection_exchange::log_summary(int final_status) const {
    static const auto logger = core::log::get("http");
    const auto elapsed = std::chrono::steady_clock::now() - started_;
    const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
    int64_t prompt_tokens = -1;
    int64_t cached_tokens = 0;
    int64_t completion_tokens = -1;
    for (const auto& [key, value] : annotations_) {
        if (key == "prompt_tokens") {
            prompt_tokens = value;
        } else if (key == "cached_tokens") {
            cached_tokens = value;
        } else if (key == "completion_tokens") {
            completion_tokens = value;
        }
    }
    if (prompt_tokens < 0) {
        core::log::info(*logger, "http.request",
                        {{"req", request_id_},
                         {"method", method_},
                         {"path", path_},
                         {"status", final_status},
                         {"ms", ms}});
        return;
    }
    core::log::info(*logger, "http.request",
                    {{"req", request_id_},
                     {"method", method_},
                     {"path", path_},
                     {"status", final_status},
                     {"ms", ms},
                     {"tokens_in", prompt_tokens},
                     {"tokens_cached", cached_tokens},
                     {"tokens_out", completion_tokens}});
}

}  // namespace osprey::http
