#include "api/openai_format.hpp"

#include <chrono>
#include <map>

#include <nlohmann/json.hpp>

#include "core/request_id.hpp"

namespace osprey::api::openai {

namespace {

using json = nlohmann::ordered_json;

// Token strings may hold part of a UTF-8 character; they are sent with the
// broken bytes replaced (the exact bytes go in `bytes`).
std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

const char* error_type(core::error_code code) {
    switch (core::http_status(code)) {
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    case 500: return "server_error";
    case 503: return "service_unavailable_error";
    case 504: return "timeout_error";
    default: return "invalid_request_error";
    }
}

json error_json(const core::error& e) {
    return {{"error",
             {{"message", e.public_message},
              {"type", error_type(e.code)},
              {"param", e.param.empty() ? json(nullptr) : json(e.param)},
              {"code", core::name(e.code)}}}};
}

json token_bytes(const std::string& token) {
    json bytes = json::array();
    for (unsigned char c : token) {
        bytes.push_back(static_cast<int>(c));
    }
    return bytes;
}

json chat_logprobs(const std::vector<core::token_logprob>& entries) {
    json content = json::array();
    for (const auto& e : entries) {
        json top = json::array();
        for (const auto& alt : e.top) {
            top.push_back({{"token", alt.token},
                           {"logprob", alt.logprob},
                           {"bytes", token_bytes(alt.token)}});
        }
        content.push_back({{"token", e.token},
                           {"logprob", e.logprob},
                           {"bytes", token_bytes(e.token)},
                           {"top_logprobs", top}});
    }
    return {{"content", content}, {"refusal", nullptr}};
}

// The legacy shape: parallel arrays, and offsets into the choice's text.
json completion_logprobs(const std::vector<core::token_logprob>& entries, size_t text_offset) {
    json tokens = json::array();
    json token_logprobs = json::array();
    json top_logprobs = json::array();
    json offsets = json::array();
    for (const auto& e : entries) {
        tokens.push_back(e.token);
        token_logprobs.push_back(e.logprob);
        json top = json::object();
        for (const auto& alt : e.top) {
            top[alt.token] = alt.logprob;
        }
        top_logprobs.push_back(top);
        offsets.push_back(text_offset);
        text_offset += e.token.size();
    }
    return {{"tokens", tokens},
            {"token_logprobs", token_logprobs},
            {"top_logprobs", top_logprobs},
            {"text_offset", offsets}};
}

json tool_calls_json(const std::vector<core::tool_call>& calls) {
    json out = json::array();
    for (const auto& call : calls) {
        out.push_back({{"id", call.id},
                       {"type", "function"},
                       {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
    }
    return out;
}

// A streamed delta's fields: only those that have something, so that a
// client's accumulator sees tool calls and reasoning apart from the text.
json chat_delta(const core::text_delta& d) {
    json delta = json::object();
    if (!d.reasoning.empty()) {
        delta["reasoning_content"] = d.reasoning;
    }
    if (!d.text.empty() || (d.reasoning.empty() && d.tool_calls.empty())) {
        delta["content"] = d.text;
    }
    if (!d.tool_calls.empty()) {
        json calls = json::array();
        for (const auto& c : d.tool_calls) {
            json call = {{"index", c.call}};
            if (!c.id.empty()) {
                call["id"] = c.id;
                call["type"] = "function";
                call["function"] = {{"name", c.name}, {"arguments", c.arguments}};
            } else {
                call["function"] = {{"arguments", c.arguments}};
            }
            calls.push_back(std::move(call));
        }
        delta["tool_calls"] = std::move(calls);
    }
    return delta;
}

json usage_json(const completion_result& r) {
    return {{"prompt_tokens", r.prompt_tokens},
            {"completion_tokens", r.completion_tokens},
            {"total_tokens", r.prompt_tokens + r.completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", r.cached_tokens}}}};
}

class openai_formatter : public formatter {
public:
    openai_formatter(endpoint kind, std::string model, bool include_usage, bool with_logprobs)
        : kind_(kind),
          id_(core::make_id(kind == endpoint::chat ? "chatcmpl-" : "cmpl-")),
          model_(std::move(model)),
          created_(std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count()),
          include_usage_(include_usage),
          with_logprobs_(with_logprobs) {}

    std::string response(const completion_result& result) const override {
        json choices = json::array();
        for (size_t i = 0; i < result.choices.size(); ++i) {
            choices.push_back(full_choice(static_cast<int32_t>(i), result.choices[i]));
        }
        json body = envelope(kind_ == endpoint::chat ? "chat.completion" : "text_completion");
        body["choices"] = std::move(choices);
        body["usage"] = usage_json(result);
        return dump(body);
    }

    std::vector<stream_event> stream_start(int32_t n, int32_t) override {
        std::vector<stream_event> events;
        if (kind_ != endpoint::chat) {
            return events;
        }
        // The first chunk of each choice names the role, as OpenAI's do.
        for (int32_t i = 0; i < n; ++i) {
            events.push_back(
                {{}, dump(chunk(i, {{"role", "assistant"}, {"content", ""}}, nullptr, nullptr))});
        }
        return events;
    }

    std::vector<stream_event> stream_delta(const core::text_delta& d) override {
        json logprobs = nullptr;
        if (with_logprobs_) {
            logprobs = kind_ == endpoint::chat
                           ? chat_logprobs(d.logprobs)
                           : completion_logprobs(d.logprobs, stream_offsets_[d.index]);
        }
        for (const auto& e : d.logprobs) {
            stream_offsets_[d.index] += e.token.size();
        }
        if (kind_ == endpoint::chat) {
            return {{{}, dump(chunk(d.index, chat_delta(d), logprobs, nullptr))}};
        }
        return {{{}, dump(text_chunk(d.index, d.text, logprobs, nullptr))}};
    }

    std::vector<stream_event> stream_finish(const core::choice_finished& f) override {
        if (kind_ == endpoint::chat) {
            return {{{}, dump(chunk(f.index, json::object(), nullptr, core::name(f.reason)))}};
        }
        return {{{}, dump(text_chunk(f.index, "", nullptr, core::name(f.reason)))}};
    }

    std::vector<stream_event> stream_end(const completion_result& result) override {
        std::vector<stream_event> events;
        if (include_usage_) {
            json last =
                envelope(kind_ == endpoint::chat ? "chat.completion.chunk" : "text_completion");
            last["choices"] = json::array();
            last["usage"] = usage_json(result);
            events.push_back({{}, dump(last)});
        }
        events.push_back({{}, "[DONE]"});
        return events;
    }

    // The error as a chunk of its own, then the end marker, as OpenAI does.
    std::vector<stream_event> stream_error(const core::error& e) const override {
        return {{{}, dump(error_json(e))}, {{}, "[DONE]"}};
    }

private:
    json envelope(const char* object) const {
        json j = {{"id", id_},
                  {"object", object},
                  {"created", created_},
                  {"model", model_},
                  {"system_fingerprint", nullptr}};
        return j;
    }

    json full_choice(int32_t index, const choice_result& c) const {
        json logprobs = nullptr;
        if (with_logprobs_) {
            logprobs = kind_ == endpoint::chat ? chat_logprobs(c.logprobs)
                                               : completion_logprobs(c.logprobs, 0);
        }
        if (kind_ == endpoint::chat) {
            json message = {
                {"role", "assistant"},
                {"content", c.text.empty() && !c.tool_calls.empty() ? json(nullptr) : json(c.text)},
                {"refusal", nullptr}};
            if (!c.reasoning.empty()) {
                message["reasoning_content"] = c.reasoning;
            }
            if (!c.tool_calls.empty()) {
                message["tool_calls"] = tool_calls_json(c.tool_calls);
            }
            return {{"index", index},
                    {"message", std::move(message)},
                    {"logprobs", logprobs},
                    {"finish_reason", core::name(c.reason)}};
        }
        return {{"index", index},
                {"text", c.text},
                {"logprobs", logprobs},
                {"finish_reason", core::name(c.reason)}};
    }

    json chunk(int32_t index, json delta, json logprobs, const char* finish) const {
        json j = envelope("chat.completion.chunk");
        j["choices"] = json::array({{{"index", index},
                                     {"delta", std::move(delta)},
                                     {"logprobs", std::move(logprobs)},
                                     {"finish_reason", finish ? json(finish) : json(nullptr)}}});
        if (include_usage_) {
            j["usage"] = nullptr;
        }
        return j;
    }

    json text_chunk(int32_t index, const std::string& text, json logprobs,
                    const char* finish) const {
        json j = envelope("text_completion");
        j["choices"] = json::array({{{"index", index},
                                     {"text", text},
                                     {"logprobs", std::move(logprobs)},
                                     {"finish_reason", finish ? json(finish) : json(nullptr)}}});
        if (include_usage_) {
            j["usage"] = nullptr;
        }
        return j;
    }

    endpoint kind_;
    std::string id_;
    std::string model_;
    int64_t created_;
    bool include_usage_;
    bool with_logprobs_;
    // Where each streamed choice's next token starts, for `text_offset`.
    std::map<int32_t, size_t> stream_offsets_;
};

}  // namespace

std::string error_body(const core::error& e) {
    return dump(error_json(e));
}

std::unique_ptr<formatter> make_formatter(endpoint kind, std::string model, bool include_usage,
                                          bool with_logprobs) {
    return std::make_unique<openai_formatter>(kind, std::move(model), include_usage, with_logprobs);
}

}  // namespace osprey::api::openai
