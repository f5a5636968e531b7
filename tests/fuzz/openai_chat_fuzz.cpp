// The OpenAI chat parser with the fuzz input as the request body: any bytes
// must become a request or a 4xx error, never a crash, an exception or a
// request outside the ranges the engine is promised.
#include <cstddef>
#include <cstdint>
#include <string>

#include "openai_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string body(reinterpret_cast<const char*>(data), size);
    const auto outcome = osprey::api::openai::parse_chat_request(body);
    osprey::fuzz::check_outcome(outcome);
    if (outcome) {
        OSPREY_FUZZ_CHECK(!outcome->messages.empty());
        OSPREY_FUZZ_CHECK(!outcome->prompt);
    }
    return 0;
}
