#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// The canonical request that every API adapter maps its JSON onto. Nothing
// here knows which API a request came from; the adapters keep whatever they
// need to shape the answer.
namespace osprey::core {

enum class role { system, developer, user, assistant, tool };

const char* name(role r);

enum class part_kind { text, image, audio, video };

const char* name(part_kind k);

// Text, or a piece of media. A media part arrives with `source` (an http(s)
// URL, a data: URI, or a file:// URL) and leaves the media gate with `data`
// holding its checked bytes and `format` naming what the bytes are.
struct message_part {
    part_kind kind = part_kind::text;
    std::string text;
    std::string source;
    std::string data;
    std::string format;
    std::string param;  // where the part sits in the request, for error messages
};

// A call the model made to one of the client's tools. `arguments` is JSON
// text (an object); `param` is where the call sits in a request's history.
struct tool_call {
    std::string id;
    std::string name;
    std::string arguments;
    std::string param;
};

struct message {
    core::role role = role::user;
    std::vector<message_part> parts;
    std::vector<tool_call> tool_calls;  // assistant: the calls it made
    std::string tool_call_id;           // tool: the call this message answers
    std::string param;                  // where the message sits in the request
};

// A function the model may call. `parameters` is a JSON schema (JSON text)
// for the call's arguments, already checked by the adapter.
struct tool {
    std::string name;
    std::string description;
    std::string parameters;
    std::string param;
};

// auto: the model chooses; none: it may not call; required: it must call
// some tool; named: it must call `tool_choice_name`.
enum class tool_choice { automatic, none, required, named };

struct sampling_params {
    float temperature = 1.0f;  // 0 means greedy
    float top_p = 1.0f;        // 1 disables nucleus sampling
    int32_t top_k = 0;         // 0 disables top-k
    float min_p = 0.0f;        // 0 disables min-p
    float presence_penalty = 0.0f;
    float frequency_penalty = 0.0f;
    std::optional<uint32_t> seed;
    // Token id and bias (-100 to 100) added to its logit; -100 bans the
    // token. Ids are checked against the vocabulary when the prompt is prepared.
    std::vector<std::pair<int32_t, float>> logit_bias;
};

// What the answer must be: free text, a JSON object, or JSON that matches a
// client's schema, which the engine enforces with a grammar whatever the
// model's weights.
enum class output_kind { text, json_object, json_schema };

struct output_format {
    output_kind kind = output_kind::text;
    std::string schema;        // json_schema: the schema as JSON text, already checked
    std::string schema_param;  // json_schema: the schema's name in errors
    std::string param;         // the format's own name in errors ("response_format")
};

struct chat_request {
    std::string model;

    // Exactly one of these is used: chat turns rendered with the model's chat
    // template, or a raw prompt (the legacy Completions API).
    std::vector<message> messages;
    std::optional<std::string> prompt;
    // The last message is an assistant turn that the answer continues
    // (Anthropic's prefill); it holds text only, and the answer does not
    // repeat it.
    bool prefill = false;

    sampling_params sampling;
    output_format output;
    std::vector<tool> tools;
    core::tool_choice tool_choice = tool_choice::automatic;
    std::string tool_choice_name;     // named: the tool that must be called
    bool parallel_tool_calls = true;  // may the model call several tools at once
    // Whether the model may reason before it answers, for templates that
    // switch it; absent: the template's default.
    std::optional<bool> thinking;
    std::optional<int32_t> max_tokens;  // absent: until the context is full
    // max_tokens is only a cap: a prompt plus max_tokens past the context is
    // not refused, the answer ends where the context does (Anthropic's
    // clients ask for far more than a local context holds).
    bool max_tokens_is_cap = false;
    std::vector<std::string> stop;
    int32_t n = 1;              // independent choices for one prompt
    int32_t top_logprobs = -1;  // -1: no logprobs; 0..20: with that many
    bool stream = false;
    bool include_usage = false;  // stream a final usage chunk
};

}  // namespace osprey::core
