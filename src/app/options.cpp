#include "app/options.hpp"

#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>

namespace osprey::app {

namespace {

// A table of options, one statement each; it runs long and reads best whole.
void add_serve_options(CLI::App& serve, serve_options& o) {
    serve.add_option("-m,--model", o.model_path, "GGUF model file")
        ->envname("OSPREY_MODEL")
        ->required();
    serve.add_option("--mmproj", o.mmproj_path, "multimodal projector GGUF file")
        ->envname("OSPREY_MMPROJ");
    serve.add_option("--host", o.host, "address to listen on")
        ->envname("OSPREY_HOST")
        ->capture_default_str();
    serve.add_option("--port", o.port, "port to listen on (0: any free port)")
        ->envname("OSPREY_PORT")
        ->capture_default_str();
    serve
        .add_option("-c,--ctx-size", o.ctx_size,
                    "tokens of context per sequence (0: the model's, at most 4096)")
        ->envname("OSPREY_CTX_SIZE")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    serve.add_option("--parallel", o.parallel, "sequences decoded concurrently")
        ->envname("OSPREY_PARALLEL")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    serve.add_option("-t,--threads", o.threads, "CPU threads for generation (0: all cores)")
        ->envname("OSPREY_THREADS")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    serve.add_option("-b,--batch-size", o.batch_size, "tokens per decode step")
        ->envname("OSPREY_BATCH_SIZE")
        ->check(CLI::Range(32, 65536))
        ->capture_default_str();
    serve
        .add_option("-u,--ubatch-size", o.ubatch_size,
                    "tokens computed at once within a decode step, at most the batch size "
                    "(0: the batch size, at most 512)")
        ->envname("OSPREY_UBATCH_SIZE")
        ->check(CLI::Range(0, 65536))
        ->capture_default_str();
    serve.add_option("--flash-attn", o.flash_attn, "flash attention: auto, on or off")
        ->envname("OSPREY_FLASH_ATTN")
        ->check(CLI::IsMember({"auto", "on", "off"}))
        ->capture_default_str();
    serve.add_option("--max-queue", o.max_queue, "sequences that may wait for a slot")
        ->envname("OSPREY_MAX_QUEUE")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    serve.add_option("-a,--alias", o.alias, "model id shown by /v1/models")
        ->envname("OSPREY_ALIAS");
    serve
        .add_option("--chat-template-file", o.chat_template_file,
                    "a Jinja chat template to use instead of the model's own")
        ->envname("OSPREY_CHAT_TEMPLATE_FILE")
        ->check(CLI::ExistingFile);
    serve.add_option("--log-format", o.log_format, "text or json")
        ->envname("OSPREY_LOG_FORMAT")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    serve.add_option("--log-level", o.log_level, "trace, debug, info, warn or error")
        ->envname("OSPREY_LOG_LEVEL")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
        ->capture_default_str();
    serve.add_option("--max-body-bytes", o.max_body_bytes, "largest request body accepted")
        ->envname("OSPREY_MAX_BODY_BYTES")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    serve
        .add_option("--read-timeout", o.read_timeout_s,
                    "seconds a request may take to arrive; idle connections close after it")
        ->envname("OSPREY_READ_TIMEOUT")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
    serve
        .add_option("--cors-origin", o.cors_origins,
                    "origins whose web pages may call the API (\"*\": any); CORS is off without")
        ->envname("OSPREY_CORS_ORIGIN")
        ->delimiter(',');
    serve
        .add_option("--drain-timeout", o.drain_timeout_s,
                    "seconds SIGTERM waits for running requests before stopping them")
        ->envname("OSPREY_DRAIN_TIMEOUT")
        ->check(CLI::Range(0.0, 3600.0))
        ->capture_default_str();
    serve
        .add_option("--request-timeout", o.request_timeout_s,
                    "seconds a generating request may take, queue included, before it is "
                    "stopped with a 504 (0: no limit)")
        ->envname("OSPREY_REQUEST_TIMEOUT")
        ->check(CLI::Range(0.0, 86400.0))
        ->capture_default_str();
    serve
        .add_option("--store", o.store,
                    "where the Responses API keeps responses: sqlite (in --data-dir), a "
                    "postgresql:// URL shared by several servers, or none")
        ->envname("OSPREY_STORE");
    serve
        .add_option("--data-dir", o.data_dir,
                    "folder for osprey's own data, the SQLite store among it (default: "
                    "$XDG_DATA_HOME/osprey or ~/.local/share/osprey)")
        ->envname("OSPREY_DATA_DIR");
    serve.add_option("--api-key", o.api_key, "require this key on every route but /health")
        ->envname("OSPREY_API_KEY");
    serve.add_option("--api-key-file", o.api_key_file, "read the API key from this file")
        ->envname("OSPREY_API_KEY_FILE")
        ->check(CLI::ExistingFile);
}

void add_media_options(CLI::App& serve, serve_options& o) {
    serve.add_flag("--no-remote-media", o.no_remote_media, "refuse media URLs; data: URIs only")
        ->envname("OSPREY_NO_REMOTE_MEDIA");
    serve.add_option("--media-allowed-ports", o.media_allowed_ports, "ports media URLs may name")
        ->envname("OSPREY_MEDIA_ALLOWED_PORTS")
        ->delimiter(',')
        ->capture_default_str();
    serve.add_option("--media-max-redirects", o.media_max_redirects, "redirects followed")
        ->envname("OSPREY_MEDIA_MAX_REDIRECTS")
        ->check(CLI::Range(0, 20))
        ->capture_default_str();
    serve.add_option("--media-proxy", o.media_proxy, "one trusted egress proxy for media")
        ->envname("OSPREY_MEDIA_PROXY");
    serve.add_option("--media-ca-file", o.media_ca_file, "extra CA bundle for media over TLS")
        ->envname("OSPREY_MEDIA_CA_FILE")
        ->check(CLI::ExistingFile);
    serve.add_option("--media-max-bytes", o.media_max_bytes, "largest media file fetched")
        ->envname("OSPREY_MEDIA_MAX_BYTES")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    serve.add_option("--media-timeout", o.media_timeout_s, "seconds for a whole media fetch")
        ->envname("OSPREY_MEDIA_TIMEOUT")
        ->check(CLI::Range(0.1, 600.0))
        ->capture_default_str();
    serve
        .add_option("--media-connect-timeout", o.media_connect_timeout_s,
                    "seconds to connect for a media fetch")
        ->envname("OSPREY_MEDIA_CONNECT_TIMEOUT")
        ->check(CLI::Range(0.1, 600.0))
        ->capture_default_str();
    serve.add_option("--media-root", o.media_root, "folder that file:// media may come from")
        ->envname("OSPREY_MEDIA_ROOT")
        ->check(CLI::ExistingDirectory);
    serve
        .add_option("--media-allow-hosts", o.media_allow_hosts,
                    "host names and CIDRs fetched even though private")
        ->envname("OSPREY_MEDIA_ALLOW_HOSTS")
        ->delimiter(',');
    serve
        .add_option("--media-allowed-domains", o.media_allowed_domains,
                    "when set, the only domains media may come from")
        ->envname("OSPREY_MEDIA_ALLOWED_DOMAINS")
        ->delimiter(',');
}

void add_decode_options(CLI::App& serve, serve_options& o) {
    serve.add_option("--max-image-pixels", o.max_image_pixels, "largest image, in pixels")
        ->envname("OSPREY_MAX_IMAGE_PIXELS")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 32))
        ->capture_default_str();
    serve.add_option("--max-audio-seconds", o.max_audio_seconds, "longest audio input")
        ->envname("OSPREY_MAX_AUDIO_SECONDS")
        ->check(CLI::Range(0.1, 86400.0))
        ->capture_default_str();
    serve.add_option("--max-video-seconds", o.max_video_seconds, "longest video input")
        ->envname("OSPREY_MAX_VIDEO_SECONDS")
        ->check(CLI::Range(0.1, 86400.0))
        ->capture_default_str();
    serve.add_option("--video-fps", o.video_fps, "video frames sampled per second")
        ->envname("OSPREY_VIDEO_FPS")
        ->check(CLI::Range(0.01, 60.0))
        ->capture_default_str();
    serve.add_option("--video-max-frames", o.video_max_frames, "most frames taken from a video")
        ->envname("OSPREY_VIDEO_MAX_FRAMES")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    serve
        .add_option("--media-cache-mib", o.media_cache_mib,
                    "memory for encoded media kept for reuse, in MiB (0: none)")
        ->envname("OSPREY_MEDIA_CACHE_MIB")
        ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 20))
        ->capture_default_str();
}

}  // namespace

parsed_command parse_command_line(int argc, char** argv) {
    parsed_command result;
    CLI::App app{"osprey: serves a GGUF language model over the OpenAI and Anthropic APIs",
                 "osprey"};
    app.require_subcommand(0, 1);
    bool version = false;
    app.add_flag("-V,--version", version, "print the version and exit");
    CLI::App* serve = app.add_subcommand("serve", "load a model and serve it over HTTP");
    add_serve_options(*serve, result.serve);
    add_media_options(*serve, result.serve);
    add_decode_options(*serve, result.serve);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        result.command = command::help_shown;
        result.exit_code = app.exit(e);
        return result;
    }
    if (version) {
        result.command = command::version;
    } else if (!serve->parsed()) {
        std::fputs(app.help().c_str(), stdout);
        result.command = command::help_shown;
        result.exit_code = 2;
    }
    return result;
}

core::expected<std::string> resolve_api_key(const serve_options& o) {
    if (!o.api_key.empty() && !o.api_key_file.empty()) {
        return core::unexpected(core::make_error(core::error_code::invalid_value,
                                                 "give --api-key or --api-key-file, not both"));
    }
    if (o.api_key_file.empty()) {
        return o.api_key;
    }
    std::ifstream in(o.api_key_file);
    std::string key;
    if (!in || !std::getline(in, key)) {
        return core::unexpected(
            core::make_error(core::error_code::invalid_value, "cannot read the API key file"));
    }
    while (!key.empty() && (key.back() == '\r' || key.back() == ' ' || key.back() == '\t')) {
        key.pop_back();
    }
    if (key.empty()) {
        return core::unexpected(core::make_error(core::error_code::invalid_value,
                                                 "the API key file's first line is empty"));
    }
    return key;
}

core::expected<std::string> read_chat_template(const serve_options& o) {
    if (o.chat_template_file.empty()) {
        return std::string();
    }
    const auto& path = o.chat_template_file;
    auto refuse = [&](const char* reason) {
        return core::unexpected(
            core::make_error(core::error_code::invalid_value, std::string(reason) + ": " + path));
    };
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    std::ifstream in(path, std::ios::binary);
    if (ec || !in) {
        return refuse("cannot read the chat template file");
    }
    std::string text(size, '\0');
    // A short read is an I/O error or a file cut while it was read.
    if (!in.read(text.data(), static_cast<std::streamsize>(size))) {
        return refuse("cannot read the chat template file");
    }
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
        return refuse("the chat template file is empty");
    }
    return text;
}

}  // namespace osprey::app
