#include "app/run.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
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
                     {"chat_template", info.has_chat_template ? "model" : "fallback"},
                     {"projector", info.has_projector}});
    if (info.name.find("random weights") != std::string::npos) {
        core::log::warn(*logger(), "model.random_weights",
                        {{"note", "this is a generated test model: its answers are random"}});
    }
}

spdlog::level::level_enum parse_level(const std::string& level) {
    return spdlog::level::from_str(level == "warn" ? "warning" : level);
}

}  // namespace

const char* version() {
    return OSPREY_VERSION;
}

int run_server(const serve_options& o) {
    core::log::configure(o.log_format == "json" ? core::log::format::json : core::log::format::text,
                         parse_level(o.log_level));
    engine::initialize_backend();

    auto api_key = resolve_api_key(o);
    if (!api_key) {
        core::log::error(*logger(), "config.invalid", {{"reason", api_key.error().public_message}});
        return 1;
    }
    if (auto ok = engine::check_model_file(o.model_path); !ok) {
        core::log::error(*logger(), "model.load_failed", {{"detail", ok.error().internal_detail}});
        return 1;
    }

    auto media = build_media(o);
    if (!media) {
        core::log::error(*logger(), "config.invalid", {{"reason", media.error().public_message}});
        return 1;
    }

    asio::io_context io;
    // Media fetches and prompt preparation block; they run here, off the
    // I/O threads. Each request's media fetches run concurrently beside it.
    asio::thread_pool blocking_pool(4);
    api::service_options service_options;
    service_options.model_id = o.alias.empty() ? model_stem(o.model_path) : o.alias;
    if (!o.alias.empty()) {
        service_options.other_ids.push_back(model_stem(o.model_path));
    }
    service_options.run_blocking = [&blocking_pool](std::function<void()> work) {
        asio::post(blocking_pool, std::move(work));
    };
    service_options.gate = media->gate.get();
    api::service service(std::move(service_options));

    http::server_options http_options;
    http_options.host = o.host;
    http_options.port = o.port;
    http_options.max_body_bytes = o.max_body_bytes;
    http_options.read_timeout = std::chrono::seconds(o.read_timeout_s);
    http_options.api_key = *api_key;
    http::server server(io, http_options, service);
    if (auto port = server.listen(); !port) {
        core::log::error(
            *logger(), "http.listen_failed",
            {{"reason", port.error().public_message}, {"detail", port.error().internal_detail}});
        return 1;
    }

    auto guard = asio::make_work_guard(io);
    std::vector<std::thread> io_threads;
    for (int i = 0; i < 2; ++i) {
        io_threads.emplace_back([&io] { io.run(); });
    }
    auto stop_io = [&] {
        guard.reset();
        io.stop();
        for (auto& t : io_threads) {
            t.join();
        }
        blocking_pool.join();
    };

    engine::model_options model_options{o.model_path, o.mmproj_path, o.ctx_size,
                                        o.parallel,   o.threads,     o.batch_size};
    auto loaded = engine::model::load(model_options, terminal_progress());
    if (!loaded) {
        core::log::error(*logger(), "model.load_failed",
                         {{"detail", loaded.error().internal_detail}});
        stop_io();
        return 1;
    }
    log_loaded((*loaded)->info(), o);
    engine::engine engine(std::move(*loaded), o.max_queue);
    service.set_engine(&engine);
    core::log::info(*logger(), "server.ready", {{"model", service.model_id()}});

    asio::signal_set signals(io, SIGINT, SIGTERM);
    std::promise<int> stopped;
    signals.async_wait([&](boost::system::error_code ec, int signal) {
        if (!ec) {
            core::log::info(*logger(), "server.stopping", {{"signal", signal}});
        }
        stopped.set_value(0);
    });
    stopped.get_future().wait();

    server.stop_accepting();
    service.set_engine(nullptr);
    engine.stop();
    // Let the sessions flush what the engine's last events produced.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop_io();
    core::log::info(*logger(), "server.stopped");
    return 0;
}

}  // namespace osprey::app
