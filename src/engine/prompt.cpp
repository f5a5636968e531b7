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

// Media parts are kept in the text as markers that no client can type: they
// carry a fresh random nonce, and the builder below cuts the text at them.
std::string media_marker(const std::string& nonce, size_t k) {
    return "\x1e" + nonce + ":m" + std::to_string(k) + "\x1e";
}

std::string join_text(const core::message& m, const std::string& nonce, size_t& n_media) {
    std::string out;
    for (const auto& part : m.parts) {
        if (!out.empty()) {
            out += '\n';
        }
        out += part.kind == core::part_kind::text ? part.text : media_marker(nonce, n_media++);
    }
    return out;
}

// Renders the first `contents.size()` messages, with `contents` in place of
// each one's text, and the generation prompt after them.
core::expected<std::string> render_chat(const model& m, const core::chat_request& r,
                                        const std::vector<std::string>& contents) {
    common_chat_templates_inputs inputs;
    inputs.add_generation_prompt = true;
    inputs.use_jinja = true;
    for (size_t i = 0; i < contents.size(); ++i) {
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

// Assembles a prompt from text, control tokens and media, in order. Plain
// text is gathered into runs and tokenized a run at a time, so that a run's
// first token gets the same leading space it would get in the whole text.
class prompt_builder {
public:
    prompt_builder(const model& m, const std::vector<media_expansion>& media, std::string nonce)
        : model_(m), media_(media), nonce_(std::move(nonce)) {
        if (llama_vocab_get_add_bos(m.vocab())) {
            out_.tokens.push_back(llama_vocab_bos(m.vocab()));
        }
    }

    // Text from the template (whose control-token text is read as control
    // tokens) or from a client (where it is plain text).
    void add_template_text(std::string_view text) {
        for (auto& p : model_.control_tokens().split(std::string(text))) {
            if (p.token < 0) {
                run_ += p.text;
            } else {
                flush();
                out_.tokens.push_back(p.token);
            }
        }
    }

    core::expected<void> add_content(std::string_view text) {
        const std::string prefix = "\x1e" + nonce_ + ":m";
        while (!text.empty()) {
            const size_t at = text.find(prefix);
            run_ += text.substr(0, at);
            if (at == std::string_view::npos) {
                break;
            }
            text.remove_prefix(at + prefix.size());
            const size_t end = text.find('\x1e');
            const size_t k = std::stoul(std::string(text.substr(0, end)));
            text.remove_prefix(end + 1);
            if (auto ok = add_media(k); !ok) {
                return ok;
            }
        }
        return {};
    }

    // Whole rendered text, control tokens read anywhere: for templates that
    // rewrite content, as llama.cpp's own server reads them.
    core::expected<void> add_rendered(std::string_view text) {
        parse_special_ = true;
        return add_content(text);
    }

    prompt finish() {
        flush();
        if (llama_vocab_get_add_eos(model_.vocab())) {
            out_.tokens.push_back(llama_vocab_eos(model_.vocab()));
        }
        return std::move(out_);
    }

private:
    void flush() {
        if (!run_.empty()) {
            auto t = common_tokenize(model_.vocab(), run_, false, parse_special_);
            out_.tokens.insert(out_.tokens.end(), t.begin(), t.end());
            run_.clear();
        }
    }

    core::expected<void> add_media(size_t k) {
        if (k >= media_.size() || model_.projector() == nullptr) {
            return core::unexpected(core::make_error(core::error_code::internal,
                                                     "a media part reached the prompt unprepared"));
        }
        for (const auto& segment : media_[k]) {
            run_ += segment.text;
            if (!segment.media) {
                continue;
            }
            auto pieces = tokenize_media(model_, *segment.media, memo_);
            if (!pieces) {
                return core::unexpected(pieces.error());
            }
            flush();
            for (auto& piece : *pieces) {
                add_piece(std::move(piece));
            }
        }
        return {};
    }

    void add_piece(media_piece piece) {
        if (auto* text = std::get_if<std::vector<int32_t>>(&piece)) {
            out_.tokens.insert(out_.tokens.end(), text->begin(), text->end());
            return;
        }
        auto& chunk = std::get<media_chunk>(piece);
        chunk.at = out_.tokens.size();
        out_.media.push_back(std::move(chunk));
    }

    const model& model_;
    const std::vector<media_expansion>& media_;
    const std::string nonce_;
    media_memo memo_;
    prompt out_;
    std::string run_;
    bool parse_special_ = false;
};

// Tokenizes as llama.cpp would tokenize the whole rendered text, except that
// control-token text inside message content stays plain text: a client
// cannot close its turn or open a forged system turn by typing "</s>" or
// "<|im_start|>".
core::expected<prompt> tokenize_layout(const model& m, const chat_layout& l,
                                       const std::vector<media_expansion>& media,
                                       const std::string& nonce) {
    prompt_builder b(m, media, nonce);
    for (size_t i = 0; i < l.template_text.size(); ++i) {
        b.add_template_text(l.template_text[i]);
        if (i < l.content.size()) {
            if (auto ok = b.add_content(l.content[i]); !ok) {
                return core::unexpected(ok.error());
            }
        }
    }
    return b.finish();
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
    if (r.max_tokens && !r.max_tokens_is_cap &&
        n_prompt + static_cast<size_t>(*r.max_tokens) > n_ctx) {
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

core::expected<prompt> tokenize_request(const model& m, const core::chat_request& r,
                                        const std::vector<media_expansion>& media) {
    // A raw prompt belongs to the client whole, control tokens included, as
    // in llama.cpp's own server.
    if (r.prompt) {
        if (auto ok = check_bytes(m, r, r.prompt->size()); !ok) {
            return core::unexpected(ok.error());
        }
        return prompt{common_tokenize(m.vocab(), *r.prompt, true, true), {}};
    }
    const std::string nonce = core::make_id("");
    std::vector<std::string> contents;
    size_t n_media = 0;
    for (const auto& message : r.messages) {
        contents.push_back(join_text(message, nonce, n_media));
    }
    // A prefill is not rendered as a turn of its own, which the template
    // would close: it follows the generation prompt as the answer's start.
    std::optional<std::string> prefill;
    if (r.prefill && !contents.empty()) {
        prefill = std::move(contents.back());
        contents.pop_back();
    }
    if (auto layout = lay_out_chat(m, r, contents)) {
        if (prefill) {
            layout->content.push_back(std::move(*prefill));
            layout->template_text.emplace_back();
        }
        if (auto ok = check_bytes(m, r, layout_bytes(*layout)); !ok) {
            return core::unexpected(ok.error());
        }
        return tokenize_layout(m, *layout, media, nonce);
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
    if (prefill) {
        *rendered += *prefill;
    }
    if (auto ok = check_bytes(m, r, rendered->size()); !ok) {
        return core::unexpected(ok.error());
    }
    prompt_builder b(m, media, nonce);
    if (auto ok = b.add_rendered(*rendered); !ok) {
        return core::unexpected(ok.error());
    }
    return b.finish();
}

}  // namespace

size_t prompt::n_tokens() const {
    size_t n = tokens.size();
    for (const auto& m : media) {
        n += static_cast<size_t>(m.n_tokens);
    }
    return n;
}

core::expected<prompt> prepare_prompt(const model& m, const core::chat_request& r,
                                      const std::vector<media_expansion>& media, prompt_use use) {
    auto p = tokenize_request(m, r, media);
    if (!p) {
        return core::unexpected(p.error());
    }
    if (p->tokens.empty()) {
        return core::unexpected(core::make_error(core::error_code::invalid_value,
                                                 "The prompt must not be empty.",
                                                 r.prompt ? "prompt" : "messages"));
    }
    // The first token to sample from comes after the last prompt token, so
    // the prompt must end in text: every chat template's generation prompt does.
    if (!p->media.empty() && p->media.back().at == p->tokens.size()) {
        return core::unexpected(
            core::make_error(core::error_code::internal, "the rendered prompt ends with media"));
    }
    if (use == prompt_use::count) {
        return p;
    }
    if (auto ok = check_fits(m, r, p->n_tokens()); !ok) {
        return core::unexpected(ok.error());
    }
    if (auto ok = encode_media(m, p->media); !ok) {
        return core::unexpected(ok.error());
    }
    return p;
}

}  // namespace osprey::engine
