#include "bench/load/chat_body.hpp"

#include <nlohmann/json.hpp>

#include "bench/load/prompt.hpp"

namespace osprey::bench::load {

std::string make_chat_body(const options& o, uint64_t index) {
    using json = nlohmann::json;
    json body = {
        {"model", o.model},
        {"messages", json::array({{{"role", "user"},
                                   {"content", make_prompt(index, o.prompt_words, o.seed)}}})},
        {"stream", true},
        {"stream_options", {{"include_usage", true}}},
        {"max_tokens", o.max_tokens},
        {"temperature", o.temperature},
    };
    if (o.logit_bias_token) {
        body["logit_bias"] = {{std::to_string(*o.logit_bias_token), -100}};
    }
    // A model name from the command line may not be UTF-8; replacing is better than throwing.
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace osprey::bench::load
