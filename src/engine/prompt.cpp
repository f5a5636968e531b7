#include "engine/prompt.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <chat.h>
#include <common.h>

#include "core/log.hpp"
#include "core/request_id.hpp"
#include "engine/model.hpp"
#include "engine/sampler.hpp"
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

common_chat_tool_choice template_tool_choice(const core::chat_request& r) {
    switch (r.tool_choice) {
    case core::tool_choice::none: return COMMON_CHAT_TOOL_CHOICE_NONE;
    // A forced call is held by a grammar of osprey's own (forced_call_grammar),
    // built from the one llama.cpp gives for the model's choice.
    case core::tool_choice::automatic:
    case core::tool_choice::required:
    case core::tool_choice::named: return COMMON_CHAT_TOOL_CHOICE_AUTO;
    }
    return COMMON_CHAT_TOOL_CHOICE_AUTO;
}

common_chat_msg template_message(const core::message& m, std::string content) {
    common_chat_msg msg;
    msg.role = template_role(m.role);
    msg.content = std::move(content);
    msg.tool_call_id = m.tool_call_id;
    for (const auto& call : m.tool_calls) {
        msg.tool_calls.push_back({call.name, call.arguments, call.id});
    }
    return msg;
}

// Renders the first `contents.size()` messages, with `contents` in place of
// each one's text, and the generation prompt after them. Offers the request's
// tools (only the named one when one is forced).
core::expected<common_chat_params> render_chat(const model& m, const core::chat_request& r,
                                               const std::vector<std::string>& contents) {
    common_chat_templates_inputs inputs;
    inputs.add_generation_prompt = true;
    inputs.use_jinja = true;
    inputs.reasoning_format = COMMON_REASONING_FORMAT_DEEPSEEK;
    inputs.enable_thinking = r.thinking.value_or(true);
    for (size_t i = 0; i < contents.size(); ++i) {
        inputs.messages.push_back(template_message(r.messages[i], contents[i]));
    }
    for (const auto& tool : r.tools) {
        if (r.tool_choice != core::tool_choice::named || tool.name == r.tool_choice_name) {
            inputs.tools.push_back({tool.name, tool.description, tool.parameters});
        }
    }
    inputs.tool_choice = template_tool_choice(r);
    inputs.parallel_tool_calls = r.parallel_tool_calls;
    try {
        return common_chat_templates_apply(m.templates(), inputs);
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
// cuts the result at the markers. Returns no layout when the template did not
// keep every marker exactly once, in order (it rewrote the content). An empty
// content (an assistant turn that only calls tools) gets no marker.
core::expected<std::optional<chat_layout>> lay_out_chat(const model& m, const core::chat_request& r,
                                                        const std::vector<std::string>& contents,
                                                        common_chat_params& params) {
    const std::string nonce = core::make_id("");
    std::vector<std::string> markers;
    for (size_t i = 0; i < contents.size(); ++i) {
        markers.push_back(contents[i].empty() ? std::string()
                                              : "\x1e" + nonce + ":" + std::to_string(i) + "\x1e");
    }
    auto rendered = render_chat(m, r, markers);
    if (!rendered) {
        return core::unexpected(rendered.error());
    }
    params = std::move(*rendered);
    const std::string& text = params.prompt;
    chat_layout layout;
    size_t at = 0;
    for (size_t i = 0; i < markers.size(); ++i) {
        if (markers[i].empty()) {
            continue;
        }
        const size_t found = text.find(markers[i], at);
        if (found == std::string::npos ||
            text.find(markers[i], found + markers[i].size()) != std::string::npos) {
            return std::nullopt;
        }
        layout.template_text.push_back(text.substr(at, found - at));
        layout.content.push_back(contents[i]);
        at = found + markers[i].size();
    }
    layout.template_text.push_back(text.substr(at));
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

// Tool definitions and calls are rendered into the template's own text,
// where control tokens are read as such: a client's text there may not hold
// one, or it could close its turn and forge another.
core::expected<void> check_tool_text(const model& m, std::string_view text,
                                     const std::string& param) {
    for (const auto& piece : m.control_tokens().split(text)) {
        if (piece.token >= 0) {
            return core::unexpected(core::make_error(
                core::error_code::invalid_value,
                "Invalid value for '" + param + "': the text of the model's control token '" +
                    piece.text + "' may not appear in tool definitions or tool calls.",
                param));
        }
    }
    return {};
}

core::expected<void> check_tools(const model& m, const core::chat_request& r) {
    bool has_calls = false;
    for (const auto& message : r.messages) {
        has_calls = has_calls || !message.tool_calls.empty() || message.role == core::role::tool;
    }
    if (r.tools.empty() && !has_calls) {
        return {};
    }
    const auto caps = common_chat_templates_get_caps(m.templates());
    if (const auto it = caps.find("supports_tool_calls"); it == caps.end() || !it->second) {
        return core::unexpected(core::make_error(
            core::error_code::invalid_value,
            std::string("Invalid value for '") + (r.tools.empty() ? "messages" : "tools") +
                "': this model's chat template has no way to call tools, so it cannot take "
                "tools or tool calls.",
            r.tools.empty() ? "messages" : "tools"));
    }
    for (const auto& tool : r.tools) {
        for (const std::string* text : {&tool.name, &tool.description, &tool.parameters}) {
            if (auto ok = check_tool_text(m, *text, tool.param); !ok) {
                return ok;
            }
        }
    }
    for (const auto& message : r.messages) {
        if (auto ok = check_tool_text(m, message.tool_call_id, message.param); !ok) {
            return ok;
        }
        for (const auto& call : message.tool_calls) {
            for (const std::string* text : {&call.id, &call.name, &call.arguments}) {
                if (auto ok = check_tool_text(m, *text, call.param); !ok) {
                    return ok;
                }
            }
        }
    }
    return {};
}

// A forced tool call: the rules llama.cpp wrote for a call the model chooses
// to make (a lazy grammar, which holds from the call's opening on), held from
// the answer's first token instead, with nothing before the call.
core::expected<std::string> forced_call_grammar(const std::string& lazy, bool parallel) {
    // Where a rule starts: at the text's start or after a line break.
    auto rule_at = [&lazy](const std::string& name) {
        const std::string head = name + " ::= ";
        if (lazy.starts_with(head)) {
            return size_t{0};
        }
        const size_t at = lazy.find("\n" + head);
        return at == std::string::npos ? at : at + 1;
    };
    const size_t at = rule_at("root");
    if (at == std::string::npos || rule_at("tool-call") == std::string::npos) {
        return core::unexpected(core::make_error(
            core::error_code::invalid_value,
            "Invalid value for 'tool_choice': this model's chat template gives tool calls a "
            "form that cannot be forced; let the model choose (auto).",
            "tool_choice"));
    }
    const size_t end = lazy.find('\n', at);
    std::string out = lazy.substr(0, at);
    out += parallel ? "root ::= tool-call (space tool-call)*" : "root ::= tool-call";
    if (end != std::string::npos) {
        out += lazy.substr(end);
    }
    return out;
}

int32_t single_token(const model& m, const std::string& text) {
    const auto tokens = common_tokenize(m.vocab(), text, false, true);
    return tokens.size() == 1 ? tokens[0] : -1;
}

// How the answer is read and held, from llama.cpp's reading of the template
// for this request.
core::expected<std::pair<answer_syntax, grammar_spec>> answer_of(const model& m,
                                                                 const core::chat_request& r,
                                                                 const common_chat_params& params) {
    answer_syntax answer;
    grammar_spec grammar;
    const bool tools = !r.tools.empty() && r.tool_choice != core::tool_choice::none;
    // A prefill starts the answer partway, where the parser cannot follow.
    if (!r.prefill) {
        answer.parser = params.parser;
        answer.generation_prompt = params.generation_prompt;
        answer.format = static_cast<int32_t>(params.format);
        answer.reasoning = params.supports_thinking;
        answer.tools = tools;
    }
    for (const auto& text : params.preserved_tokens) {
        if (const int32_t token = single_token(m, text); token >= 0) {
            answer.preserved_tokens.push_back(token);
        }
    }
    if (!tools) {
        return std::make_pair(std::move(answer), std::move(grammar));
    }
    if (params.grammar.empty() || !params.grammar_lazy) {
        return core::unexpected(core::make_error(
            core::error_code::invalid_value,
            "Invalid value for 'tools': this model's chat template gives tool calls no form "
            "that osprey can hold the answer to.",
            "tools"));
    }
    if (r.tool_choice == core::tool_choice::automatic) {
        grammar.text = params.grammar;
        grammar.lazy = true;
        for (const auto& trigger : params.grammar_triggers) {
            switch (trigger.type) {
            case COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN:
                grammar.trigger_tokens.push_back(trigger.token);
                break;
            case COMMON_GRAMMAR_TRIGGER_TYPE_WORD:
                if (const int32_t token = single_token(m, trigger.value);
                    token >= 0 &&
                    std::find(answer.preserved_tokens.begin(), answer.preserved_tokens.end(),
                              token) != answer.preserved_tokens.end()) {
                    grammar.trigger_tokens.push_back(token);
                } else {
                    grammar.trigger_patterns.push_back(regex_escape(trigger.value));
                }
                break;
            case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN:
                grammar.trigger_patterns.push_back(trigger.value);
                break;
            case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN_FULL:
                grammar.trigger_patterns.push_back("^" + trigger.value + "$");
                break;
            }
        }
    } else {
        auto forced = forced_call_grammar(params.grammar, r.parallel_tool_calls);
        if (!forced) {
            return core::unexpected(forced.error());
        }
        grammar.text = std::move(*forced);
    }
    // Compiled once here, off the engine thread, so that a failure shows
    // before the response starts.
    llama_sampler* compiled = compile_grammar(m.vocab(), grammar);
    if (compiled == nullptr) {
        core::error e = core::make_error(core::error_code::invalid_value,
                                         "Invalid value for 'tools': these tools cannot be "
                                         "turned into a grammar for the model's tool calls.",
                                         "tools");
        e.internal_detail = "the tool-call grammar did not compile";
        return core::unexpected(std::move(e));
    }
    llama_sampler_free(compiled);
    return std::make_pair(std::move(answer), std::move(grammar));
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

core::expected<prompt> tokenize_chat(const model& m, const core::chat_request& r,
                                     const std::vector<media_expansion>& media,
                                     common_chat_params& params) {
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
    auto layout = lay_out_chat(m, r, contents, params);
    if (!layout) {
        return core::unexpected(layout.error());
    }
    if (*layout) {
        if (prefill) {
            (*layout)->content.push_back(std::move(*prefill));
            (*layout)->template_text.emplace_back();
        }
        if (auto ok = check_bytes(m, r, layout_bytes(**layout)); !ok) {
            return core::unexpected(ok.error());
        }
        return tokenize_layout(m, **layout, media, nonce);
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
    params = std::move(*rendered);
    std::string text = params.prompt;
    if (prefill) {
        text += *prefill;
    }
    if (auto ok = check_bytes(m, r, text.size()); !ok) {
        return core::unexpected(ok.error());
    }
    prompt_builder b(m, media, nonce);
    if (auto ok = b.add_rendered(text); !ok) {
        return core::unexpected(ok.error());
    }
    return b.finish();
}

core::expected<prompt> tokenize_request(const model& m, const core::chat_request& r,
                                        const std::vector<media_expansion>& media) {
    // A raw prompt belongs to the client whole, control tokens included, as
    // in llama.cpp's own server.
    if (r.prompt) {
        if (auto ok = check_bytes(m, r, r.prompt->size()); !ok) {
            return core::unexpected(ok.error());
        }
        return prompt{common_tokenize(m.vocab(), *r.prompt, true, true), {}, {}, {}};
    }
    if (auto ok = check_tools(m, r); !ok) {
        return core::unexpected(ok.error());
    }
    common_chat_params params;
    auto p = tokenize_chat(m, r, media, params);
    if (!p) {
        return p;
    }
    auto answer = answer_of(m, r, params);
    if (!answer) {
        return core::unexpected(answer.error());
    }
    p->answer = std::move(answer->first);
    p->grammar = std::move(answer->second);
    return p;
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
