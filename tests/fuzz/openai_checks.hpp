#pragma once

#include <nlohmann/json.hpp>

#include "api/openai_format.hpp"
#include "api/openai_request.hpp"
#include "core/error.hpp"
#include "core/utf8.hpp"
#include "fuzz_check.hpp"

// What every outcome of an OpenAI request parser must satisfy, shared by the
// chat and the completions targets.
namespace osprey::fuzz {

// A refusal is the client's fault (a 4xx, never a 500 for bytes a client
// chose), and the error body it becomes is JSON that any client can parse.
inline void check_refusal(const core::error& e) {
    const int status = core::http_status(e.code);
    OSPREY_FUZZ_CHECK(status >= 400 && status < 500);
    OSPREY_FUZZ_CHECK(!e.public_message.empty());

    const std::string body = api::openai::error_body(e);
    OSPREY_FUZZ_CHECK(core::sanitize_utf8(body) == body);
    const auto parsed = nlohmann::json::parse(body, nullptr, false);
    OSPREY_FUZZ_CHECK(parsed.is_object() && parsed.contains("error"));
}

// An accepted request stays within the ranges the engine is promised.
inline void check_accepted(const core::chat_request& r) {
    OSPREY_FUZZ_CHECK(r.n >= 1 && r.n <= api::openai::max_choices);
    OSPREY_FUZZ_CHECK(r.top_logprobs >= -1 && r.top_logprobs <= api::openai::max_top_logprobs);
    OSPREY_FUZZ_CHECK(r.stop.size() <= static_cast<size_t>(api::openai::max_stop_sequences));
    for (const auto& s : r.stop) {
        OSPREY_FUZZ_CHECK(!s.empty());
    }
    OSPREY_FUZZ_CHECK(!r.max_tokens || *r.max_tokens >= 1);

    const auto& s = r.sampling;
    OSPREY_FUZZ_CHECK(s.temperature >= 0.0f && s.temperature <= 2.0f);
    OSPREY_FUZZ_CHECK(s.top_p >= 0.0f && s.top_p <= 1.0f);
    OSPREY_FUZZ_CHECK(s.min_p >= 0.0f && s.min_p <= 1.0f);
    OSPREY_FUZZ_CHECK(s.top_k >= 0);
}

inline void check_outcome(const core::expected<core::chat_request>& outcome) {
    if (outcome) {
        check_accepted(*outcome);
    } else {
        check_refusal(outcome.error());
    }
}

}  // namespace osprey::fuzz
