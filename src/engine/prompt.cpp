#include "engine/prompt.hpp"

#include <string>

#include <chat.h>
#include <common.h>

#include "engine/model.hpp"

namespace osprey::engine {

namespace {

// Most chat templates predate the developer role; OpenAI treats it as the
// system prompt for models that have no role of that name.
std::string template_role(core::role r) {
    return r == core::role::developer ? "system" : core::name(r);
}

std::string join_text(const core::message& m) {
    std::string out;
    for (const auto& part : m.parts) {
        if (!out.empty()) {
            out += '\n';
        }
        out += part.text;
    }
    return out;
}

core::expected<std::string> render_chat(const model& m, const core::chat_request& r) {
    common_chat_templates_inputs inputs;
    inputs.add_generation_prompt = true;
    inputs.use_jinja = true;
    for (const auto& message : r.messages) {
        common_chat_msg msg;
        msg.role = template_role(message.role);
        msg.content = join_text(message);
        inputs.messages.push_back(std::move(msg));
    }
    try {
        return common_chat_templates_apply(m.templates(), inputs).prompt;
    } catch (const std::exception& e) {
        core::error err = core::make_error(core::error_code::internal,
                                           "the model's chat template could not be rendered");
        err.internal_detail = std::string("template error: ") + e.what();
        return core::unexpected(err);
    }
}

core::expected<void> check_fits(const model& m, const core::chat_request& r, size_t n_prompt) {
    const auto n_ctx = static_cast<size_t>(m.info().n_ctx_seq);
    const char* param = r.prompt ? "prompt" : "messages";
    if (n_prompt >= n_ctx) {
        return core::unexpected(
            core::make_error(core::error_code::context_length_exceeded,
                             "This model's maximum context length is " + std::to_string(n_ctx) +
                                 " tokens, but the prompt has " + std::to_string(n_prompt) +
                                 " tokens. Shorten the prompt.",
                             param));
    }
    if (r.max_tokens && n_prompt + static_cast<size_t>(*r.max_tokens) > n_ctx) {
        return core::unexpected(core::make_error(
            core::error_code::context_length_exceeded,
            "This model's maximum context length is " + std::to_string(n_ctx) +
                " tokens. However, you requested " +
                std::to_string(n_prompt + static_cast<size_t>(*r.max_tokens)) + " tokens (" +
                std::to_string(n_prompt) + " in the prompt, " + std::to_string(*r.max_tokens) +
                " for the completion). Reduce the prompt or max_tokens.",
            "max_tokens"));
    }
    return {};
}

}  // namespace

core::expected<std::vector<int32_t>> prepare_prompt(const model& m, const core::chat_request& r) {
    std::string text;
    if (r.prompt) {
        text = *r.prompt;
    } else {
        auto rendered = render_chat(m, r);
        if (!rendered) {
            return core::unexpected(rendered.error());
        }
        text = std::move(*rendered);
    }

    // llama.cpp's search for special-token text is quadratic in how often it
    // occurs, so a prompt that cannot fit anyway is refused before it is
    // tokenized: no token of any vocabulary osprey serves is longer than this
    // many bytes on average over a whole context.
    constexpr size_t max_bytes_per_token = 32;
    const size_t n_ctx = static_cast<size_t>(m.info().n_ctx_seq);
    if (text.size() > n_ctx * max_bytes_per_token) {
        return core::unexpected(
            core::make_error(core::error_code::context_length_exceeded,
                             "This model's maximum context length is " + std::to_string(n_ctx) +
                                 " tokens, and the prompt is far longer. Shorten the prompt.",
                             r.prompt ? "prompt" : "messages"));
    }
    std::vector<llama_token> tokens = common_tokenize(m.vocab(), text, true, true);
    if (tokens.empty()) {
        return core::unexpected(core::make_error(core::error_code::invalid_value,
                                                 "The prompt must not be empty.",
                                                 r.prompt ? "prompt" : "messages"));
    }
    if (auto ok = check_fits(m, r, tokens.size()); !ok) {
        return core::unexpected(ok.error());
    }
    return std::vector<int32_t>(tokens.begin(), tokens.end());
}

}  // namespace osprey::engine
