#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/chat_request.hpp"
#include "core/error.hpp"

// POST /v1/responses: OpenAI's Responses API read onto the canonical request.
// The request's input is a list of items (messages, function calls and their
// outputs); a request that names a previous response continues from that
// response's items, which the store keeps.
namespace osprey::api::responses {

struct responses_request {
    // The canonical request; its messages are set by build_messages.
    core::chat_request chat;
    // The input as items, a string input made one user message: what the
    // store keeps, with the output, for a later request to continue from.
    nlohmann::json input_items = nlohmann::json::array();
    std::vector<core::message> input_messages;  // the same items, read
    std::optional<std::string> instructions;
    std::string previous_response_id;
    bool store = true;
    // Echoed in the Response object as the client gave them (or their defaults).
    nlohmann::json metadata;
    nlohmann::json tools = nlohmann::json::array();
    nlohmann::json tool_choice = "auto";
    nlohmann::json text_format = {{"type", "text"}};
};

// Errors name the field in the Responses API's notation ("input[2].content[0].image_url").
core::expected<responses_request> parse_request(const std::string& body);

// The messages the model sees: the instructions (this request's only, as in
// OpenAI's API), the earlier response's conversation items, then this
// request's input. `earlier` was written by osprey's own store; an item it
// cannot read is an internal error.
core::expected<void> build_messages(responses_request& r, const nlohmann::json& earlier);

}  // namespace osprey::api::responses
