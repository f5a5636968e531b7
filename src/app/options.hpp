#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"

namespace osprey::app {

struct serve_options {
    std::string model_path;
    std::string mmproj_path;
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    int32_t ctx_size = 0;
    int32_t parallel = 4;
    int32_t threads = 0;
    int32_t batch_size = 512;
    int32_t ubatch_size = 0;  // 0: the batch size, at most 512
    std::string flash_attn = "auto";
    int32_t max_queue = 64;
    std::string alias;
    std::string chat_template_file;  // empty: the model's own template, or the fallback
    std::string log_format = "text";
    std::string log_level = "info";
    std::size_t max_body_bytes = 32u << 20;
    int32_t read_timeout_s = 30;
    double drain_timeout_s = 30;
    double request_timeout_s = 600;  // 0: no limit
    // The Responses API's store: "sqlite" (a database in data_dir), a
    // postgresql:// URL, or "none".
    std::string store = "sqlite";
    std::string data_dir;  // empty: $XDG_DATA_HOME/osprey, or ~/.local/share/osprey
    std::string api_key;
    std::string api_key_file;
    std::vector<std::string> cors_origins;

    // The media fetcher (see README, "Remote media").
    bool no_remote_media = false;
    std::vector<uint16_t> media_allowed_ports = {80, 443};
    int32_t media_max_redirects = 5;
    std::string media_proxy;
    std::string media_ca_file;
    std::size_t media_max_bytes = 20u << 20;
    double media_timeout_s = 10;
    double media_connect_timeout_s = 3;
    std::string media_root;
    std::vector<std::string> media_allow_hosts;
    std::vector<std::string> media_allowed_domains;

    // Decoding media for the model (see README, "Images, audio and video").
    uint64_t max_image_pixels = 50'000'000;
    double max_audio_seconds = 600;
    double max_video_seconds = 600;
    double video_fps = 1;
    int32_t video_max_frames = 16;
    std::size_t media_cache_mib = 256;
};

enum class command { serve, version, help_shown };

struct parsed_command {
    app::command command = command::serve;
    serve_options serve;
    int exit_code = 0;  // for help_shown: 0 for --help, 2 for a usage error
};

// Parses argv with CLI11; every option also reads OSPREY_<NAME> from the
// environment. Prints help or usage errors itself.
parsed_command parse_command_line(int argc, char** argv);

// The API key from --api-key or the first line of --api-key-file.
// Errors: invalid_value when both are given or the file cannot be read.
core::expected<std::string> resolve_api_key(const serve_options& o);

// The text of --chat-template-file, or "" without one.
// Errors: invalid_value when the file cannot be read or is empty.
core::expected<std::string> read_chat_template(const serve_options& o);

}  // namespace osprey::app
