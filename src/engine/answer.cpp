#include "engine/answer.hpp"

#include <exception>
#include <string_view>
#include <utility>

#include <chat.h>

#include "core/log.hpp"
#include "core/request_id.hpp"

namespace osprey::engine {

namespace {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto l = core::log::get("engine");
    return l;
}

// What `now` adds to `before`, when it only adds; nothing when the parser
// has changed its mind about earlier text (which a stream cannot take back).
std::string_view appended(const std::string& before, const std::string& now) {
    if (now.size() <= before.size() || now.compare(0, before.size(), before) != 0) {
        return {};
    }
    return std::string_view(now).substr(before.size());
}

}  // namespace

struct answer_reader::parser {
    common_chat_parser_params params;
};

answer_reader::answer_reader(const answer_syntax& syntax, std::string id_prefix)
    : parser_(std::make_unique<parser>()), id_prefix_(std::move(id_prefix)) {
    auto& p = parser_->params;
    p.format = static_cast<common_chat_format>(syntax.format);
    p.generation_prompt = syntax.generation_prompt;
    p.reasoning_format =
        syntax.reasoning ? COMMON_REASONING_FORMAT_DEEPSEEK : COMMON_REASONING_FORMAT_NONE;
    p.parse_tool_calls = syntax.tools;
    p.parser.load(syntax.parser);
}

answer_reader::~answer_reader() = default;

core::text_delta answer_reader::read(core::text_delta raw) {
    raw_ += raw.text;
    core::text_delta out;
    out.index = raw.index;
    out.logprobs = std::move(raw.logprobs);
    try {
        const common_chat_msg msg = common_chat_parse(raw_, true, parser_->params);
        read_answer parsed{msg.content, msg.reasoning_content, {}};
        for (const auto& call : msg.tool_calls) {
            parsed.tool_calls.push_back({call.id, call.name, call.arguments, {}});
        }
        emit(parsed, false, out);
    } catch (const std::exception& e) {
        // Held until the end, where the whole answer decides.
        core::log::debug(*logger(), "answer.partial_unreadable", {{"detail", e.what()}});
    }
    return out;
}

core::text_delta answer_reader::finish(int32_t index) {
    core::text_delta out;
    out.index = index;
    read_answer parsed;
    try {
        const common_chat_msg msg = common_chat_parse(raw_, false, parser_->params);
        parsed = {msg.content, msg.reasoning_content, {}};
        for (const auto& call : msg.tool_calls) {
            parsed.tool_calls.push_back({call.id, call.name, call.arguments, {}});
        }
    } catch (const std::exception& e) {
        // The model wrote something its own format does not allow (a tool
        // call cut short, say): the client gets it as text, not an error.
        core::log::info(*logger(), "answer.unreadable",
                        {{"detail", e.what()}, {"bytes", raw_.size()}});
        parsed = {raw_, {}, {}};
    }
    emit(parsed, true, out);
    // The stream cannot take back what it sent, but the whole answer is the
    // parser's final reading, with the ids the stream gave its calls.
    for (size_t i = 0; i < parsed.tool_calls.size() && i < sent_.tool_calls.size(); ++i) {
        parsed.tool_calls[i].id = sent_.tool_calls[i].id;
    }
    sent_ = std::move(parsed);
    return out;
}

// Sends what `parsed` adds to what was sent: text and reasoning that grew,
// new tool calls (id and name first), and arguments that grew. A call's name
// may still be growing while it is the last thing read, so a call starts
// once its arguments have begun, another call follows it, or the answer ended.
void answer_reader::emit(const read_answer& parsed, bool final, core::text_delta& out) {
    out.reasoning = appended(sent_.reasoning, parsed.reasoning);
    sent_.reasoning += out.reasoning;
    out.text = appended(sent_.text, parsed.text);
    sent_.text += out.text;
    for (size_t i = 0; i < parsed.tool_calls.size(); ++i) {
        const auto& call = parsed.tool_calls[i];
        if (i >= sent_.tool_calls.size()) {
            const bool named = final || i + 1 < parsed.tool_calls.size() || !call.arguments.empty();
            if (call.name.empty() || !named) {
                break;
            }
            core::tool_call started;
            started.id = call.id.empty() ? core::make_id(id_prefix_) : call.id;
            started.name = call.name;
            sent_.tool_calls.push_back(started);
            out.tool_calls.push_back(
                {static_cast<int32_t>(i), started.id, started.name, std::string()});
        }
        auto& sent = sent_.tool_calls[i];
        const std::string_view more = appended(sent.arguments, call.arguments);
        if (more.empty()) {
            continue;
        }
        sent.arguments += more;
        if (!out.tool_calls.empty() && out.tool_calls.back().call == static_cast<int32_t>(i)) {
            out.tool_calls.back().arguments += more;
        } else {
            out.tool_calls.push_back({static_cast<int32_t>(i), {}, {}, std::string(more)});
        }
    }
}

}  // namespace osprey::engine
