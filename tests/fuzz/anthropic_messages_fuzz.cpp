// The Anthropic Messages parser with the fuzz input as the request body, for
// /v1/messages and for /v1/messages/count_tokens: any bytes must become a
// request or a 4xx error in Anthropic's shape, never a crash, an exception
// or a request outside the ranges the engine is promised.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "api/anthropic_format.hpp"
#include "api/anthropic_request.hpp"
#include "core/utf8.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace osprey;

void check_refusal(const core::error& e) {
    const int status = core::http_status(e.code);
    OSPREY_FUZZ_CHECK(status >= 400 && status < 500);
    OSPREY_FUZZ_CHECK(!e.public_message.empty());
    const std::string body = api::anthropic::error_body(e, "req_fuzz");
    OSPREY_FUZZ_CHECK(core::sanitize_utf8(body) == body);
    const auto parsed = nlohmann::json::parse(body, nullptr, false);
    OSPREY_FUZZ_CHECK(parsed.is_object() && parsed.value("type", "") == "error");
}

// A conversation the prompt builder can take: a user turn first (after an
// optional system prompt), and media nowhere in a prefill.
void check_conversation(const core::chat_request& r) {
    OSPREY_FUZZ_CHECK(!r.messages.empty());
    OSPREY_FUZZ_CHECK(!r.prompt);
    OSPREY_FUZZ_CHECK(r.n == 1 && r.top_logprobs == -1);
    size_t first = r.messages.front().role == core::role::system ? 1 : 0;
    OSPREY_FUZZ_CHECK(first < r.messages.size());
    OSPREY_FUZZ_CHECK(r.messages[first].role == core::role::user);
    for (size_t i = first; i < r.messages.size(); ++i) {
        OSPREY_FUZZ_CHECK(r.messages[i].role != core::role::system);
        // Turns of one role were combined: roles alternate.
        OSPREY_FUZZ_CHECK(i == first || r.messages[i].role != r.messages[i - 1].role);
    }
    OSPREY_FUZZ_CHECK(r.prefill == (r.messages.back().role == core::role::assistant));
    if (r.prefill) {
        for (const auto& p : r.messages.back().parts) {
            OSPREY_FUZZ_CHECK(p.kind == core::part_kind::text);
        }
    }
    for (const auto& m : r.messages) {
        for (const auto& p : m.parts) {
            OSPREY_FUZZ_CHECK(p.kind == core::part_kind::text || p.kind == core::part_kind::image);
            OSPREY_FUZZ_CHECK(p.kind == core::part_kind::text || !p.param.empty());
        }
    }
}

void check_messages(const core::chat_request& r) {
    check_conversation(r);
    OSPREY_FUZZ_CHECK(r.max_tokens && *r.max_tokens >= 1);
    OSPREY_FUZZ_CHECK(r.stop.size() <= static_cast<size_t>(api::anthropic::max_stop_sequences));
    for (const auto& s : r.stop) {
        OSPREY_FUZZ_CHECK(!s.empty());
    }
    const auto& s = r.sampling;
    OSPREY_FUZZ_CHECK(s.temperature >= 0.0f && s.temperature <= 1.0f);
    OSPREY_FUZZ_CHECK(s.top_p >= 0.0f && s.top_p <= 1.0f);
    OSPREY_FUZZ_CHECK(s.top_k >= 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string body(reinterpret_cast<const char*>(data), size);
    if (const auto r = api::anthropic::parse_messages_request(body)) {
        check_messages(*r);
    } else {
        check_refusal(r.error());
    }
    if (const auto r = api::anthropic::parse_count_tokens_request(body)) {
        check_conversation(*r);
        OSPREY_FUZZ_CHECK(!r->max_tokens && !r->stream);
    } else {
        check_refusal(r.error());
    }
    return 0;
}
