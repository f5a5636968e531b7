#include "engine/prompt.hpp"

#include <optional>
#include <string>
#include <vector>

#include <chat.h>
#include <common.h>

#include "core/log.hpp"
#include "core/request_id.hpp"
#include "engine/model.hpp"
#include "engine/special_tokens.hpp"

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

// Renders the messages with `contents` in place of each message's text.
core::expected<std::string> render_chat(const model& m, const core::chat_request& r,
                                        const std::vector<std::string>& contents) {
    common_chat_templates_inputs inputs;
    inputs.add_generation_prompt = true;
    inputs.use_jinja = true;
    for (size_t i = 0; i < r.messages.size(); ++i) {
        common_chat_msg msg;
        msg.role = template_role(r.messages[i].role);
        msg.content = contents[i];
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

// A rendered chat as the template's own text and the clients' message
// content, in order. Control tokens are recognised in the first only.
struct chat_layout {
    std::vector<std::string> template_text;  // one more entry than content
    std::vector<std::string> content;
};

// Renders once with a random marker in place of each message's content, and
// cuts the result at the markers. Returns nothing when the template did not
// keep every marker exactly once, in order (it rewrote the content).
std::optional<chat_layout> lay_out_chat(const model& m, const core::chat_request& r,
                                        const std::vector<std::string>& contents) {
    const std::string nonce = core::make_id("");
    std::vector<std::string> markers;
    for (size_t i = 0; i < contents.size(); ++i) {
        markers.push_back("\x1e" + nonce + ":" + std::to_string(i) + "\x1e");
    }
    auto rendered = render_chat(m, r, markers);
    if (!rendered) {
        return std::nullopt;
    }
    chat_layout layout;
    size_t at = 0;
    for (size_t i = 0; i < markers.size(); ++i) {
        const size_t found = rendered->find(markers[i], at);
        if (found == std::string::npos ||
            rendered->find(markers[i], found + markers[i].size()) != std::string::npos) {
            return std::nullopt;
        }
        layout.template_text.push_back(rendered->substr(at, found - at));
        layout.content.push_back(contents[i]);
        at = found + markers[i].size();
    }
    layout.template_text.push_back(rendered->substr(at));
    return layout;
}

size_t layout_bytes(const chat_layout& l) {
    size_t n = 0;
    for (const auto& t : l.template_text) {
        n += t.size();
    }
    for (const auto& c : l.content) {
        n += c.size();
    }
    return n;
}

// Tokenizes as llama.cpp would tokenize the whole rendered text, except that
// control-token text inside message content stays plain text: a client
// cannot close its turn or open a forged system turn by typing "</s>" or
// "<|im_start|>". Plain text between control tokens is tokenized in one run,
// so that a run's first token gets the same leading space it would get in
// the whole text.
std::vector<llama_token> tokenize_layout(const model& m, const chat_layout& l) {
    const llama_vocab* vocab = m.vocab();
    std::vector<special_tokens::piece> pieces;
    for (size_t i = 0; i < l.template_text.size(); ++i) {
        for (auto& p : m.control_tokens().split(l.template_text[i])) {
            pieces.push_back(std::move(p));
        }
        if (i < l.content.size()) {
            pieces.push_back({-1, l.content[i]});
        }
    }
    std::vector<llama_token> tokens;
    if (llama_vocab_get_add_bos(vocab)) {
        tokens.push_back(llama_vocab_bos(vocab));
    }
    std::string run;
    auto flush = [&] {
        if (!run.empty()) {
            auto t = common_tokenize(vocab, run, false, false);
            tokens.insert(tokens.end(), t.begin(), t.end());
            run.clear();
        }
    };
    for (const auto& p : pieces) {
        if (p.token < 0) {
            run += p.text;
            continue;
        }
        flush();
        tokens.push_back(p.token);
    }
    flush();
    if (llama_vocab_get_add_eos(vocab)) {
        tokens.push_back(llama_vocab_eos(vocab));
    }
    return tokens;
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

namespace {

// llama.cpp's search for special-token text is quadratic in how often it
// occurs, so a prompt that cannot fit anyway is refused before it is
// tokenized: no token of any vocabulary osprey serves is longer than this many
// bytes on average over a whole context.
constexpr size_t max_bytes_per_token = 32;

core::expected<void> check_bytes(const model& m, const core::chat_request& r, size_t bytes) {
    const size_t n_ctx = static_cast<size_t>(m.info().n_ctx_seq);
    if (bytes <= n_ctx * max_bytes_per_token) {
        return {};
    }
    return core::unexpected(
        core::make_error(core::error_code::context_length_exceeded,
                         "This model's maximum context length is " + std::to_string(n_ctx) +
                             " tokens, and the prompt is far longer. Shorten the prompt.",
                         r.prompt ? "prompt" : "messages"));
}

core::expected<std::vector<llama_token>> tokenize_request(const model& m,
                                                          const core::chat_request& r) {
    // A raw prompt belongs to the client whole, control tokens included, as
    // in llama.cpp's own server.
    if (r.prompt) {
        if (auto ok = check_bytes(m, r, r.prompt->size()); !ok) {
            return core::unexpected(ok.error());
        }
        return common_tokenize(m.vocab(), *r.prompt, true, true);
    }
    std::vector<std::string> contents;
    for (const auto& message : r.messages) {
        contents.push_back(join_text(message));
    }
    if (auto layout = lay_out_chat(m, r, contents)) {
        if (auto ok = check_bytes(m, r, layout_bytes(*layout)); !ok) {
            return core::unexpected(ok.error());
        }
        return tokenize_layout(m, *layout);
    }
    // TODO: a template that rewrites message content (trims it, say) cannot be
    // laid out with markers; its whole text is tokenized as llama.cpp's server
    // does, so control-token text typed by a client is read as a control token.
    static const auto logger = core::log::get("engine");
    core::log::debug(*logger, "engine.template_rewrites_content");
    auto rendered = render_chat(m, r, contents);
    if (!rendered) {
        return core::unexpected(rendered.error());
    }
    if (auto ok = check_bytes(m, r, rendered->size()); !ok) {
        return core::unexpected(ok.error());
    }
    return common_tokenize(m.vocab(), *rendered, true, true);
}

}  // namespace

core::expected<std::vector<int32_t>> prepare_prompt(const model& m, const core::chat_request& r) {
    auto tokens = tokenize_request(m, r);
    if (!tokens) {
        return core::unexpected(tokens.error());
    }
    if (tokens->empty()) {
        return core::unexpected(core::make_error(core::error_code::invalid_value,
                                                 "The prompt must not be empty.",
                                                 r.prompt ? "prompt" : "messages"));
    }
    if (auto ok = check_fits(m, r, tokens->size()); !ok) {
        return core::unexpected(ok.error());
    }
    return std::vector<int32_t>(tokens->begin(), tokens->end());
}

}  // namespace osprey::engine
