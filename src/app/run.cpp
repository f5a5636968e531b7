#include "app/run.hpp"

#include <unistd.h>

#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "api/service.hpp"
#include "app/media_setup.hpp"
#include "core/log.hpp"
#include "engine/engine.hpp"
#include "engine/model.hpp"
#include "http/server.hpp"
#include "store/response_store.hpp"

#ifndef OSPREY_VERSION
#define OSPREY_VERSION "0.0.0"
#endif

namespace osprey::app {

namespace asio = boost::asio;

namespace {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto l = core::log::get("app");
    return l;
}

// The model's id when no alias is given: its file name without ".gguf".
std::string model_stem(const std::string& path) {
    std::filesystem::path p(path);
    return p.extension() == ".gguf" ? p.stem().string() : p.filename().string();
}

// Draws a progress line while the weights load, on a terminal only.
engine::load_progress terminal_progress() {
    if (!isatty(STDERR_FILENO)) {
        return nullptr;
    }
    return [last = -1](float progress) mutable {
        const int percent = static_cast<int>(std::lround(progress * 100.0f));
        if (percent == last) {
            return;
        }
        last = percent;
        std::fprintf(stderr, "\rloading model %3d%%%s", percent, percent == 100 ? "\n" : "");
    };
}

void log_loaded(const engine::model_info& info, const serve_options& o) {
    core::log::info(*logger(), "model.loaded",
                    {{"path", o.model_path},
                     {"name", info.name},
                     {"architecture", info.architecture},
                     {"description", info.description},
                     {"params", info.n_params},
                     {"bytes", info.size_bytes},
                     {"ctx_train", info.n_ctx_train},
                     {"ctx_per_sequence", info.n_ctx_seq},
                     {"parallel", o.parallel},
                     {"chat_template", !o.chat_template_file.empty() ? "file"
                                       : info.has_chat_template      ? "model"
                                                                     : "fallback"},
                     {"projector", info.has_projector}});
    constexpr double mib = 1 << 20;
    core::log::info(*logger(), "model.memory",
                    {{"kv_cache_mib", std::round(info.kv_cache_bytes / mib * 10) / 10},
                     {"ctx_per_sequence", info.n_ctx_seq},
                     {"parallel", info.parallel},
                     {"compute_mib", std::round(info.compute_bytes / mib * 10) / 10},
                     {"available_mib", std::round(info.available_bytes / mib)}});
    if (info.name.find("random weights") != std::string::npos) {
        core::log::warn(*logger(), "model.random_weights",
                        {{"note", "this is a generated test model: its answers are random"}});
    }
}

spdlog::level::level_enum parse_level(const std::string& level) {
    return spdlog::level::from_str(level == "warn" ? "warning" : level);
}

// The I/O threads, and the pool where blocking work runs beside them.
class runtime {
public:
    runtime() : guard_(asio::make_work_guard(io)) {
        for (int i = 0; i < io_thread_count; ++i) {
            threads_.emplace_back([this] { io.run(); });
        }
    }
    ~runtime() { stop(); }

    void stop() {
        guard_.reset();
        io.stop();
        for (auto& t : threads_) {
            if (t.joinable()) {
                t.join();
            }
        }
        blocking.join();
    }

    static constexpr int io_thread_count = 2;
    asio::io_context io;
    // Media fetches and prompt preparation block; they run here, off the
    // I/O threads. Each request's media fetches run concurrently beside it.
    asio::thread_pool blocking{4};

private:
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    std::vector<std::thread> threads_;
};

// The default --data-dir, as the XDG base directories place a program's data.
std::string default_data_dir() {
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/') {
        return std::string(xdg) + "/osprey";
    }
    const char* home = std::getenv("HOME");
    return std::string(home != nullptr && *home != '\0' ? home : ".") + "/.local/share/osprey";
}

// The Responses API's store, as --store says; null for "none".
core::expected<std::unique_ptr<store::response_store>> open_store(const serve_options& o) {
    if (o.store == "none") {
        return nullptr;
    }
    if (o.store == "sqlite") {
        return store::open_sqlite_store(o.data_dir.empty() ? default_data_dir() : o.data_dir);
    }
    if (o.store.rfind("postgresql://", 0) == 0 || o.store.rfind("postgres://", 0) == 0) {
        return store::open_postgresql_store(o.store);
    }
    return core::unexpected(core::make_error(
        core::error_code::invalid_value, "--store must be sqlite, none, or a postgresql:// URL"));
}

api::service_options service_options_for(const serve_options& o, runtime& rt,
                                         const media::media_gate* gate,
                                         store::response_store* responses) {
    api::service_options s;
    s.model_id = o.alias.empty() ? model_stem(o.model_path) : o.alias;
    if (!o.alias.empty()) {
        s.other_ids.push_back(model_stem(o.model_path));
    }
    s.run_blocking = [&rt](std::function<void()> work) {
        asio::post(rt.blocking, std::move(work));
    };
    s.gate = gate;
    s.request_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(std::llround(o.request_timeout_s * 1000)));
    s.responses = responses;
    return s;
}

http::server_options http_options_for(const serve_options& o, std::string api_key) {
    http::server_options h;
    h.host = o.host;
    h.port = o.port;
    h.max_body_bytes = o.max_body_bytes;
    h.read_timeout = std::chrono::seconds(o.read_timeout_s);
    h.api_key = std::move(api_key);
    h.cors_origins = o.cors_origins;
    return h;
}

// Everything that can be checked before listening: a bad setting is one
// clear line and exit code 1, not a server that half starts.
bool check_settings(const serve_options& o, std::string& api_key, std::string& chat_template) {
    auto key = resolve_api_key(o);
    if (!key) {
        core::log::error(*logger(), "config.invalid", {{"reason", key.error().public_message}});
        return false;
    }
    api_key = std::move(*key);
    auto text = read_chat_template(o);
    if (!text) {
        core::log::error(*logger(), "config.invalid", {{"reason", text.error().public_message}});
        return false;
    }
    if (!text->empty()) {
        if (auto ok = engine::check_chat_template(*text); !ok) {
            core::log::error(
                *logger(), "config.invalid",
                {{"reason", ok.error().public_message}, {"file", o.chat_template_file}});
            return false;
        }
    }
    chat_template = std::move(*text);
    if (o.ubatch_size > o.batch_size) {
        core::log::error(*logger(), "config.invalid",
                         {{"reason", "--ubatch-size (" + std::to_string(o.ubatch_size) +
                                         ") may not exceed --batch-size (" +
                                         std::to_string(o.batch_size) + ")"}});
        return false;
    }
    if (o.batch_size < o.parallel) {
        // Each decode step holds the next token of every running sequence.
        core::log::error(
            *logger(), "config.invalid",
            {{"reason", "--batch-size (" + std::to_string(o.batch_size) +
                            ") must be at least --parallel (" + std::to_string(o.parallel) + ")"}});
        return false;
    }
    if (auto ok = engine::check_model_file(o.model_path); !ok) {
        core::log::error(*logger(), "model.load_failed", {{"detail", ok.error().internal_detail}});
        return false;
    }
    return true;
}

std::unique_ptr<engine::engine> load_engine(const serve_options& o, std::string chat_template) {
    engine::model_options mo;
    mo.chat_template = std::move(chat_template);
    mo.model_path = o.model_path;
    mo.mmproj_path = o.mmproj_path;
    mo.ctx_size = o.ctx_size;
    mo.parallel = o.parallel;
    mo.threads = o.threads;
    mo.batch_size = o.batch_size;
    mo.ubatch_size = o.ubatch_size;
    mo.flash_attn = o.flash_attn;
    mo.media_cache_bytes = o.media_cache_mib << 20;
    auto loaded = engine::model::load(mo, terminal_progress());
    if (!loaded) {
        core::log::error(*logger(), "model.load_failed",
                         {{"detail", loaded.error().internal_detail}});
        return nullptr;
    }
    log_loaded((*loaded)->info(), o);
    return std::make_unique<engine::engine>(std::move(*loaded), o.max_queue);
}

// Lets the requests already taken run to their end, for at most `timeout`
// or until a second signal; new ones get 503 meanwhile.
void drain(api::service& service, std::chrono::milliseconds timeout,
           const std::atomic<bool>& stop_now) {
    service.begin_drain();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (service.in_flight() > 0) {
        core::log::info(*logger(), "server.draining", {{"requests", service.in_flight()}});
    }
    while (service.in_flight() > 0 && !stop_now && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (service.in_flight() > 0) {
        core::log::warn(*logger(), "server.drain_cut_short",
                        {{"requests", service.in_flight()},
                         {"reason", stop_now ? "second signal" : "drain timeout"}});
    }
}

}  // namespace

const char* version() {
    return OSPREY_VERSION;
}

namespace {

// glibc serves a large allocation from the heap once a larger one has been
// freed (its mmap threshold rises to match), and then keeps the memory: a
// burst of large requests would raise the server's footprint for good. A
// fixed threshold sends every block of 1 MiB or more to mmap and back.
void pin_allocator_thresholds() {
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_TRIM_THRESHOLD, 4 << 20);
}

}  // namespace

int run_server(const serve_options& o) {
    pin_allocator_thresholds();
    core::log::configure(o.log_format == "json" ? core::log::format::json : core::log::format::text,
                         parse_level(o.log_level));
    engine::initialize_backend();
    std::string api_key;
    std::string chat_template;
    if (!check_settings(o, api_key, chat_template)) {
        return 1;
    }
    auto media = build_media(o);
    if (!media) {
        core::log::error(*logger(), "config.invalid", {{"reason", media.error().public_message}});
        return 1;
    }

    auto responses = open_store(o);
    if (!responses) {
        core::log::error(*logger(), "store.open_failed",
                         {{"reason", responses.error().public_message},
                          {"detail", responses.error().internal_detail}});
        return 1;
    }
    if (*responses) {
        core::log::info(*logger(), "store.ready", {{"store", (*responses)->describe()}});
    }

    runtime rt;
    std::promise<void> stop_requested;
    std::atomic<bool> stop_now = false;
    asio::signal_set signals(rt.io, SIGINT, SIGTERM);
    // The first signal drains; a second one stops at once.
    signals.async_wait([&](boost::system::error_code ec, int signal) {
        if (!ec) {
            core::log::info(*logger(), "server.stopping", {{"signal", signal}});
            signals.async_wait([&](boost::system::error_code again, int) { stop_now = !again; });
        }
        stop_requested.set_value();
    });

    api::service service(service_options_for(o, rt, media->gate.get(), responses->get()));
    http::server server(rt.io, http_options_for(o, std::move(api_key)), service);
    if (auto port = server.listen(); !port) {
        core::log::error(
            *logger(), "http.listen_failed",
            {{"reason", port.error().public_message}, {"detail", port.error().internal_detail}});
        rt.stop();  // before the server and service its threads may be using go away
        return 1;
    }
    auto engine = load_engine(o, std::move(chat_template));
    if (!engine) {
        rt.stop();
        return 1;
    }
    service.set_engine(engine.get());
    core::log::info(*logger(), "server.ready", {{"model", service.model_id()}});
    stop_requested.get_future().wait();

    server.stop_accepting();
    drain(service, std::chrono::milliseconds(static_cast<int64_t>(o.drain_timeout_s * 1000)),
          stop_now);
    service.set_engine(nullptr);
    engine->stop();
    // Let the sessions flush what the engine's last events produced.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    rt.stop();
    core::log::info(*logger(), "server.stopped");
    return 0;
}

}  // namespace osprey::app
