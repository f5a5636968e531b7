#include "api/responses_format.hpp"

#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "core/request_id.hpp"

namespace osprey::api::responses {

namespace {

using json = nlohmann::ordered_json;

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

int64_t unix_time() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// One output item as it grows: reasoning, the message's text, or a call's
// arguments.
struct output_item {
    enum class kind { reasoning, message, function_call } type = kind::message;
    std::string id;
    std::string text;  // reasoning text, output_text, or a call's arguments
    std::string call_id;
    std::string name;
    bool done = false;
};

class responses_formatter : public formatter {
public:
    responses_formatter(const responses_request& r, std::string model, nlohmann::json earlier,
                        response_keeper keep)
        : id_(core::make_id("resp_")),
          created_at_(unix_time()),
          model_(std::move(model)),
          earlier_(std::move(earlier)),
          input_items_(r.input_items),
          keep_(r.store ? std::move(keep) : nullptr) {
        echo_ = {
            {"instructions", r.instructions ? json(*r.instructions) : json(nullptr)},
            {"max_output_tokens", r.chat.max_tokens ? json(*r.chat.max_tokens) : json(nullptr)},
            {"metadata", r.metadata.is_object() ? json(r.metadata) : json::object()},
            {"parallel_tool_calls", r.chat.parallel_tool_calls},
            {"previous_response_id",
             r.previous_response_id.empty() ? json(nullptr) : json(r.previous_response_id)},
            {"store", r.store},
            {"temperature", r.chat.sampling.temperature},
            {"text", {{"format", json(r.text_format)}}},
            {"tool_choice", json(r.tool_choice)},
            {"tools", json(r.tools)},
            {"top_p", r.chat.sampling.top_p},
            {"truncation", "disabled"}};
    }

    std::string tool_call_id_prefix() const override { return "call_"; }

    std::string response(const completion_result& result) const override {
        const choice_result& c = result.choices.at(0);
        items_.clear();
        if (!c.reasoning.empty()) {
            items_.push_back(
                {output_item::kind::reasoning, core::make_id("rs_"), c.reasoning, {}, {}, true});
        }
        if (!c.text.empty() || c.tool_calls.empty()) {
            items_.push_back(
                {output_item::kind::message, core::make_id("msg_"), c.text, {}, {}, true});
        }
        for (const auto& call : c.tool_calls) {
            items_.push_back({output_item::kind::function_call, core::make_id("fc_"),
                              call.arguments, call.id, call.name, true});
        }
        final_ = whole(result, c.reason);
        return dump(final_);
    }

    std::vector<stream_event> stream_start(int32_t, int32_t) override {
        std::vector<stream_event> events;
        add(events, "response.created", {{"response", snapshot("in_progress")}});
        add(events, "response.in_progress", {{"response", snapshot("in_progress")}});
        return events;
    }

    std::vector<stream_event> stream_delta(const core::text_delta& d) override {
        std::vector<stream_event> events;
        if (!d.reasoning.empty()) {
            open(events, output_item::kind::reasoning);
            items_.back().text += d.reasoning;
            add(events, "response.reasoning_text.delta", located({{"delta", d.reasoning}}));
        }
        if (!d.text.empty()) {
            open(events, output_item::kind::message);
            items_.back().text += d.text;
            add(events, "response.output_text.delta",
                located({{"delta", d.text}, {"logprobs", json::array()}}));
        }
        for (const auto& piece : d.tool_calls) {
            if (!piece.id.empty()) {
                open(events, output_item::kind::function_call, piece.id, piece.name);
            }
            if (!piece.arguments.empty() && open_kind() == output_item::kind::function_call) {
                items_.back().text += piece.arguments;
                add(events, "response.function_call_arguments.delta",
                    {{"item_id", items_.back().id},
                     {"output_index", items_.size() - 1},
                     {"delta", piece.arguments}});
            }
        }
        return events;
    }

    std::vector<stream_event> stream_finish(const core::choice_finished& f) override {
        std::vector<stream_event> events;
        if (items_.empty()) {
            open(events, output_item::kind::message);  // an empty answer is one empty message
        }
        close(events);
        reason_ = f.reason;
        return events;
    }

    std::vector<stream_event> stream_end(const completion_result& result) override {
        final_ = whole(result, reason_);
        std::vector<stream_event> events;
        const std::string status = final_["status"];
        add(events, status == "completed" ? "response.completed" : "response.incomplete",
            {{"response", final_}});
        return events;
    }

    std::vector<stream_event> stream_error(const core::error& e) const override {
        json failed = snapshot("failed");
        failed["error"] = {
            {"code", e.code == core::error_code::timeout ? "timeout" : "server_error"},
            {"message", e.public_message}};
        std::vector<stream_event> events;
        add(events, "response.failed", {{"response", std::move(failed)}});
        return events;
    }

    // The whole response and its conversation go to the store first, so that
    // a client that has the response's end can already continue from it.
    void complete(std::function<void()> send) override {
        if (!keep_ || final_.is_null()) {
            send();
            return;
        }
        nlohmann::json conversation = earlier_.is_array() ? earlier_ : nlohmann::json::array();
        for (const auto& item : input_items_) {
            conversation.push_back(item);
        }
        for (const auto& item : final_["output"]) {
            conversation.push_back(nlohmann::json(item));
        }
        keep_(id_, created_at_, dump(final_), conversation.dump(), std::move(send));
    }

private:
    json snapshot(const char* status) const {
        json output = json::array();
        for (const auto& item : items_) {
            output.push_back(item_json(item));
        }
        json j = {{"id", id_},
                  {"object", "response"},
                  {"created_at", created_at_},
                  {"status", status},
                  {"error", nullptr},
                  {"incomplete_details", nullptr},
                  {"model", model_},
                  {"output", std::move(output)},
                  {"usage", nullptr}};
        for (const auto& [key, value] : echo_.items()) {
            j[key] = value;
        }
        return j;
    }

    json whole(const completion_result& result, core::finish_reason reason) const {
        const bool cut = reason == core::finish_reason::length;
        json j = snapshot(cut ? "incomplete" : "completed");
        if (cut) {
            j["incomplete_details"] = {{"reason", "max_output_tokens"}};
        }
        j["usage"] = {{"input_tokens", result.prompt_tokens},
                      {"input_tokens_details", {{"cached_tokens", result.cached_tokens}}},
                      {"output_tokens", result.completion_tokens},
                      {"output_tokens_details", {{"reasoning_tokens", 0}}},
                      {"total_tokens", result.prompt_tokens + result.completion_tokens}};
        return j;
    }

    static json item_json(const output_item& item) {
        const char* status = item.done ? "completed" : "in_progress";
        switch (item.type) {
        case output_item::kind::reasoning:
            return {{"id", item.id},
                    {"type", "reasoning"},
                    {"summary", json::array()},
                    {"content", json::array({{{"type", "reasoning_text"}, {"text", item.text}}})},
                    {"status", status}};
        case output_item::kind::function_call:
            return {{"id", item.id},     {"type", "function_call"}, {"call_id", item.call_id},
                    {"name", item.name}, {"arguments", item.text},  {"status", status}};
        case output_item::kind::message: break;
        }
        return {{"id", item.id},
                {"type", "message"},
                {"role", "assistant"},
                {"status", status},
                {"content", json::array({output_text(item.text)})}};
    }

    static json output_text(const std::string& text) {
        return {{"type", "output_text"},
                {"text", text},
                {"annotations", json::array()},
                {"logprobs", json::array()}};
    }

    void add(std::vector<stream_event>& events, const char* type, json body) const {
        json j = {{"type", type}, {"sequence_number", sequence_++}};
        j.update(body);
        events.push_back({type, dump(j)});
    }

    json located(json body) const {
        json j = {{"item_id", items_.back().id},
                  {"output_index", items_.size() - 1},
                  {"content_index", 0}};
        j.update(body);
        return j;
    }

    std::optional<output_item::kind> open_kind() const {
        if (items_.empty() || items_.back().done) {
            return std::nullopt;
        }
        return items_.back().type;
    }

    // Closes the open item unless it is of `kind` (and not a new call), and
    // opens one of `kind`: its output_item.added and, for text, its part.
    void open(std::vector<stream_event>& events, output_item::kind kind, std::string call_id = {},
              std::string name = {}) {
        if (open_kind() == kind && kind != output_item::kind::function_call) {
            return;
        }
        close(events);
        const char* prefix = kind == output_item::kind::reasoning ? "rs_"
                             : kind == output_item::kind::message ? "msg_"
                                                                  : "fc_";
        items_.push_back(
            {kind, core::make_id(prefix), {}, std::move(call_id), std::move(name), false});
        json added = item_json(items_.back());
        if (kind != output_item::kind::function_call) {
            added["content"] = json::array();
        }
        add(events, "response.output_item.added",
            {{"output_index", items_.size() - 1}, {"item", std::move(added)}});
        if (kind == output_item::kind::message) {
            add(events, "response.content_part.added", located({{"part", output_text("")}}));
        } else if (kind == output_item::kind::reasoning) {
            add(events, "response.content_part.added",
                located({{"part", {{"type", "reasoning_text"}, {"text", ""}}}}));
        }
    }

    // Ends the open item: its text's done event, its part's, and the item's.
    void close(std::vector<stream_event>& events) {
        const auto kind = open_kind();
        if (!kind) {
            return;
        }
        auto& item = items_.back();
        item.done = true;
        if (*kind == output_item::kind::message) {
            add(events, "response.output_text.done",
                located({{"text", item.text}, {"logprobs", json::array()}}));
            add(events, "response.content_part.done", located({{"part", output_text(item.text)}}));
        } else if (*kind == output_item::kind::reasoning) {
            add(events, "response.reasoning_text.done", located({{"text", item.text}}));
            add(events, "response.content_part.done",
                located({{"part", {{"type", "reasoning_text"}, {"text", item.text}}}}));
        } else {
            add(events, "response.function_call_arguments.done",
                {{"item_id", item.id},
                 {"output_index", items_.size() - 1},
                 {"name", item.name},
                 {"arguments", item.text}});
        }
        add(events, "response.output_item.done",
            {{"output_index", items_.size() - 1}, {"item", item_json(item)}});
    }

    const std::string id_;
    const int64_t created_at_;
    const std::string model_;
    const nlohmann::json earlier_;
    const nlohmann::json input_items_;
    response_keeper keep_;
    json echo_;
    mutable std::vector<output_item> items_;
    mutable json final_;
    core::finish_reason reason_ = core::finish_reason::stop;
    mutable int64_t sequence_ = 0;  // the next event's sequence_number
};

}  // namespace

std::unique_ptr<formatter> make_formatter(const responses_request& request, std::string model,
                                          nlohmann::json earlier, response_keeper keep) {
    return std::make_unique<responses_formatter>(request, std::move(model), std::move(earlier),
                                                 std::move(keep));
}

std::string deleted_body(const std::string& id) {
    return dump({{"id", id}, {"object", "response"}, {"deleted", true}});
}

}  // namespace osprey::api::responses
