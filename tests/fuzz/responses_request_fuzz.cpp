// The Responses request parser with the fuzz input as the request body: any
// bytes must become a request or a 4xx error, never a crash, an exception or
// a request outside the ranges the engine is promised. An accepted request's
// items must read onto messages again (as a stored conversation is read
// back), and its Response object must be JSON.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "api/responses_format.hpp"
#include "api/responses_request.hpp"
#include "openai_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    using namespace osprey;
    const std::string body(reinterpret_cast<const char*>(data), size);
    auto outcome = api::responses::parse_request(body);
    if (!outcome) {
        fuzz::check_refusal(outcome.error());
        return 0;
    }
    fuzz::check_accepted(outcome->chat);
    OSPREY_FUZZ_CHECK(outcome->chat.n == 1);
    // The request's own items, replayed as a previous response's would be.
    const nlohmann::json earlier = outcome->input_items;
    OSPREY_FUZZ_CHECK(api::responses::build_messages(*outcome, earlier).has_value());
    OSPREY_FUZZ_CHECK(!outcome->chat.messages.empty());

    auto f = api::responses::make_formatter(*outcome, outcome->chat.model, earlier, nullptr);
    api::completion_result result;
    result.choices.resize(1);
    result.choices[0].text = outcome->chat.model;
    const auto response = nlohmann::json::parse(f->response(result), nullptr, false);
    OSPREY_FUZZ_CHECK(response.is_object() && response["object"] == "response");
    return 0;
}
