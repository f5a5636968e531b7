#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "api/exchange.hpp"
#include "api/formatter.hpp"
#include "core/chat_request.hpp"
#include "core/error.hpp"

namespace osprey::engine {
class engine;
}

namespace osprey::media {
class media_gate;
}

namespace osprey::api {

// Runs `work` away from the I/O threads (template rendering and tokenizing
// can take milliseconds on long conversations).
using blocking_runner = std::function<void(std::function<void()>)>;

// Sends an error in the request's API shape and logs its internal detail.
using error_responder = std::function<void(const core::error&)>;

struct generation_context {
    std::shared_ptr<exchange> ex;
    // Held until the response is whole or abandoned: graceful shutdown waits
    // for every such token to be released.
    std::shared_ptr<void> in_flight;
    engine::engine* engine = nullptr;
    const media::media_gate* gate = nullptr;
    core::chat_request request;
    std::string grammar;      // set while preparing, from request.output
    bool count_only = false;  // the prompt is only counted, never generated from
    std::unique_ptr<formatter> format;
    std::string request_id;
    // Past it, the engine stops the request (error_code::timeout).
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    blocking_runner run_blocking;
    error_responder respond_error;
};

// The shared back half of every generating route: passes the request's media
// through the media gate and prepares the prompt, both off the I/O threads, queues the job, and
// turns the engine's events into the API's response. Every check that can fail runs before the
// first response byte; after that, a failure is an error event inside the stream.
void start_generation(generation_context context);

// Makes the body that answers a token count.
using count_responder = std::function<std::string(int32_t input_tokens)>;

// Passes the request through the gate and prepares its prompt as
// start_generation does, then answers with the prompt's size in tokens
// (media included) instead of generating.
void start_token_count(generation_context context, count_responder body);

}  // namespace osprey::api
