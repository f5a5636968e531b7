#include "bench/load/stream_record.hpp"

#include <nlohmann/json.hpp>

namespace osprey::bench::load {

namespace {

using json = nlohmann::json;

// The member `key` of `j` when `j` is an object that has it; nullptr otherwise. The JSON comes
// from the server under test, so no shape is assumed.
const json* member(const json& j, const char* key) {
    if (!j.is_object()) {
        return nullptr;
    }
    const auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

std::optional<int64_t> integer_member(const json* j, const char* key) {
    const json* v = j ? member(*j, key) : nullptr;
    if (!v || !v->is_number_integer()) {
        return std::nullopt;
    }
    return v->get<int64_t>();
}

bool has_content(const json& chunk) {
    const json* choices = member(chunk, "choices");
    if (!choices || !choices->is_array() || choices->empty()) {
        return false;
    }
    const json* delta = member(choices->front(), "delta");
    const json* content = delta ? member(*delta, "content") : nullptr;
    return content && content->is_string() && !content->get_ref<const std::string&>().empty();
}

void take_usage(const json& chunk, stream_record& record) {
    const json* usage = member(chunk, "usage");
    if (!usage || !usage->is_object()) {
        return;  // null in every chunk but the last
    }
    if (auto n = integer_member(usage, "completion_tokens")) {
        record.completion_tokens = n;
    }
    if (auto n = integer_member(usage, "prompt_tokens")) {
        record.prompt_tokens = n;
    }
}

}  // namespace

void apply_event(const sse_event& event, clock_type::time_point at, stream_record& record) {
    if (event.data == "[DONE]") {
        record.done = true;
        return;
    }

    const json chunk = json::parse(event.data, nullptr, /*allow_exceptions=*/false);
    if (chunk.is_discarded()) {
        fail(record, "a stream event is not JSON: " + clip(event.data));
        return;
    }
    if (const json* error = member(chunk, "error"); error && !error->is_null()) {
        fail(record, "error in stream: " +
                         clip(error->dump(-1, ' ', false, json::error_handler_t::replace)));
        return;
    }

    if (has_content(chunk)) {
        record.content_times.push_back(at);
    }
    take_usage(chunk, record);
}

void fail(stream_record& record, std::string message) {
    if (record.error.empty()) {
        record.error = std::move(message);
    }
}

bool succeeded(const stream_record& record) {
    return record.status == 200 && record.done && record.error.empty();
}

std::string clip(std::string_view text, std::size_t limit) {
    if (text.size() <= limit) {
        return std::string(text);
    }
    return std::string(text.substr(0, limit)) + "...";
}

}  // namespace osprey::bench::load
