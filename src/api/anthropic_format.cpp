#include "api/anthropic_format.hpp"

#include <nlohmann/json.hpp>

#include "core/request_id.hpp"

namespace osprey::api::anthropic {

namespace {

using json = nlohmann::ordered_json;

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

const char* error_type(core::error_code code) {
    switch (core::http_status(code)) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503: return "overloaded_error";
    case 504: return "timeout_error";
    default: return core::http_status(code) >= 500 ? "api_error" : "invalid_request_error";
    }
}

json error_object(const core::error& e) {
    return {{"type", error_type(e.code)}, {"message", e.public_message}};
}

const char* stop_reason(core::finish_reason reason, const std::string& stop_sequence) {
    if (reason == core::finish_reason::length) {
        return "max_tokens";
    }
    if (reason == core::finish_reason::tool_calls) {
        return "tool_use";
    }
    return stop_sequence.empty() ? "end_turn" : "stop_sequence";
}

json stop_sequence_json(const std::string& s) {
    return s.empty() ? json(nullptr) : json(s);
}

// As Anthropic counts them, `input_tokens` are the prompt tokens that were
// not read from the cache. osprey's reuse needs no cache writes of the
// client's asking, so nothing is ever counted as written.
json usage_json(int32_t prompt_tokens, int32_t cached_tokens, int32_t output_tokens) {
    return {{"input_tokens", prompt_tokens - cached_tokens},
            {"cache_creation_input_tokens", 0},
            {"cache_read_input_tokens", cached_tokens},
            {"output_tokens", output_tokens}};
}

stream_event event(const char* type, json body) {
    json j = {{"type", type}};
    j.update(body);
    return {type, dump(j)};
}

// A tool call's input as the object it is; arguments that do not parse (an
// answer cut short by max_tokens) are kept as text under "_raw".
json tool_input(const std::string& arguments) {
    json input = json::parse(arguments, nullptr, false);
    if (input.is_discarded() || !input.is_object()) {
        return {{"_raw", arguments}};
    }
    return input;
}

class anthropic_formatter : public formatter {
public:
    explicit anthropic_formatter(std::string model)
        : id_(core::make_id("msg_")), model_(std::move(model)) {}

    std::string tool_call_id_prefix() const override { return "toolu_"; }

    void expect_parts() override { parts_ = true; }

    // Reasoning first, as a thinking block; then the text; then each tool call.
    std::string response(const completion_result& result) const override {
        const choice_result& c = result.choices.at(0);
        json content = json::array();
        if (!c.reasoning.empty()) {
            content.push_back(thinking_block(c.reasoning));
        }
        if (!c.text.empty() || c.tool_calls.empty()) {
            content.push_back(text_block(c.text));
        }
        for (const auto& call : c.tool_calls) {
            content.push_back(tool_use_block(call.id, call.name, tool_input(call.arguments)));
        }
        json body = message(
            std::move(content), stop_reason(c.reason, c.stop_sequence),
            stop_sequence_json(c.stop_sequence),
            usage_json(result.prompt_tokens, result.cached_tokens, result.completion_tokens));
        return dump(body);
    }

    // What the prompt reuses is known only once the engine takes it, after
    // message_start: until message_delta, all of it counts as input. A
    // plain answer is one text block, opened at once; an answer read apart
    // opens each block as its first piece comes.
    std::vector<stream_event> stream_start(int32_t, int32_t prompt_tokens) override {
        std::vector<stream_event> events = {
            event("message_start", {{"message", message(json::array(), nullptr, nullptr,
                                                        usage_json(prompt_tokens, 0, 0))}})};
        if (!parts_) {
            open(events, block::text, text_block(""));
        }
        events.push_back(event("ping", json::object()));
        return events;
    }

    std::vector<stream_event> stream_delta(const core::text_delta& d) override {
        std::vector<stream_event> events;
        if (!d.reasoning.empty()) {
            if (open_ != block::thinking) {
                open(events, block::thinking, thinking_block(""));
            }
            events.push_back(delta({{"type", "thinking_delta"}, {"thinking", d.reasoning}}));
        }
        if (!d.text.empty()) {
            if (open_ != block::text) {
                open(events, block::text, text_block(""));
            }
            events.push_back(delta({{"type", "text_delta"}, {"text", d.text}}));
        }
        for (const auto& piece : d.tool_calls) {
            if (!piece.id.empty()) {
                open(events, block::tool_use, tool_use_block(piece.id, piece.name, json::object()));
            }
            if (!piece.arguments.empty() && open_ == block::tool_use) {
                events.push_back(
                    delta({{"type", "input_json_delta"}, {"partial_json", piece.arguments}}));
            }
        }
        return events;
    }

    std::vector<stream_event> stream_finish(const core::choice_finished& f) override {
        std::vector<stream_event> events;
        if (index_ < 0) {
            open(events, block::text, text_block(""));  // an empty answer is one empty text block
        }
        events.push_back(event("content_block_stop", {{"index", index_}}));
        open_ = block::none;
        events.push_back(
            event("message_delta",
                  {{"delta",
                    {{"stop_reason", stop_reason(f.reason, f.stop_sequence)},
                     {"stop_sequence", stop_sequence_json(f.stop_sequence)}}},
                   {"usage", usage_json(f.prompt_tokens, f.cached_tokens, f.completion_tokens)}}));
        return events;
    }

    std::vector<stream_event> stream_end(const completion_result&) override {
        return {event("message_stop", json::object())};
    }

    std::vector<stream_event> stream_error(const core::error& e) const override {
        return {event("error", {{"error", error_object(e)}})};
    }

private:
    enum class block { none, text, thinking, tool_use };

    // Closes the open block, if any, and opens the next one.
    void open(std::vector<stream_event>& events, block kind, json content_block) {
        if (open_ != block::none) {
            events.push_back(event("content_block_stop", {{"index", index_}}));
        }
        ++index_;
        open_ = kind;
        events.push_back(event("content_block_start",
                               {{"index", index_}, {"content_block", std::move(content_block)}}));
    }

    stream_event delta(json body) const {
        return event("content_block_delta", {{"index", index_}, {"delta", std::move(body)}});
    }

    json message(json content, json reason, json stop_sequence, json usage) const {
        return {{"id", id_},
                {"type", "message"},
                {"role", "assistant"},
                {"model", model_},
                {"content", std::move(content)},
                {"stop_reason", std::move(reason)},
                {"stop_sequence", std::move(stop_sequence)},
                {"usage", std::move(usage)}};
    }

    static json text_block(const std::string& text) { return {{"type", "text"}, {"text", text}}; }

    // osprey signs nothing: a thinking block's signature is empty.
    static json thinking_block(const std::string& thinking) {
        return {{"type", "thinking"}, {"thinking", thinking}, {"signature", ""}};
    }

    static json tool_use_block(const std::string& id, const std::string& name, json input) {
        return {{"type", "tool_use"}, {"id", id}, {"name", name}, {"input", std::move(input)}};
    }

    std::string id_;
    std::string model_;
    bool parts_ = false;
    block open_ = block::none;
    int32_t index_ = -1;  // the block opened last
};

}  // namespace

std::string error_body(const core::error& e, const std::string& request_id) {
    return dump({{"type", "error"}, {"error", error_object(e)}, {"request_id", request_id}});
}

std::unique_ptr<formatter> make_formatter(std::string model) {
    return std::make_unique<anthropic_formatter>(std::move(model));
}

std::string count_tokens_body(int32_t input_tokens) {
    return dump({{"input_tokens", input_tokens}});
}

}  // namespace osprey::api::anthropic
