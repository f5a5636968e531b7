#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "api/formatter.hpp"
#include "api/responses_request.hpp"

namespace osprey::api::responses {

// Keeps a whole response before the client gets its end: `response` is the
// Response object (JSON text), `conversation` the items a later request
// continues from. Calls `then` when done, from any thread.
using response_keeper = std::function<void(std::string id, int64_t created_at, std::string response,
                                           std::string conversation, std::function<void()> then)>;

// Shapes one request's answer as a Response object: a `reasoning` item when
// the template sets reasoning apart, a `message` with one output_text part,
// and a `function_call` item per tool call. A stream sends the Responses
// events, each with its sequence_number, from response.created to
// response.completed (or response.incomplete, response.failed). `earlier` is
// the previous response's conversation; with `keep`, the whole response is
// kept before its end is sent.
std::unique_ptr<formatter> make_formatter(const responses_request& request, std::string model,
                                          nlohmann::json earlier, response_keeper keep);

// DELETE /v1/responses/{id}'s answer.
std::string deleted_body(const std::string& id);

}  // namespace osprey::api::responses
