#include "api/generation.hpp"

#include <variant>

#include "api/media_inputs.hpp"
#include "core/log.hpp"
#include "engine/answer.hpp"
#include "engine/engine.hpp"
#include "engine/grammar.hpp"
#include "engine/prompt.hpp"
#include "media/media_error.hpp"
#include "media/media_gate.hpp"

namespace osprey::api {

namespace {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto l = core::log::get("api");
    return l;
}

// Collects one request's events on the connection's strand, and writes them
// out as they come (streaming) or all at once at the end.
class generation_sink : public core::event_sink,
                        public std::enable_shared_from_this<generation_sink> {
public:
    generation_sink(std::shared_ptr<exchange> ex, std::unique_ptr<formatter> format,
                    const core::chat_request& request, const engine::answer_syntax& answer,
                    std::string request_id, error_responder respond_error,
                    std::shared_ptr<void> in_flight)
        : ex_(std::move(ex)),
          in_flight_(std::move(in_flight)),
          request_id_(std::move(request_id)),
          format_(std::move(format)),
          respond_error_(std::move(respond_error)),
          stream_(request.stream),
          n_(request.n) {
        result_.choices.resize(static_cast<size_t>(n_));
        if (answer.needs_reading()) {
            format_->expect_parts();
            for (int32_t i = 0; i < n_; ++i) {
                readers_.push_back(std::make_unique<engine::answer_reader>(
                    answer, format_->tool_call_id_prefix()));
            }
        }
    }

    void on_event(core::event e) override {
        ex_->post([self = shared_from_this(), e = std::move(e)]() mutable {
            self->handle(std::move(e));
        });
    }

    void begin_stream(int32_t prompt_tokens) {
        ex_->start_stream();
        send(format_->stream_start(n_, prompt_tokens));
    }

private:
    void send(std::vector<stream_event> events) {
        for (auto& e : events) {
            ex_->send_event(std::move(e));
        }
    }

    void handle(core::event e) {
        if (done_) {
            return;
        }
        std::visit([this](auto& ev) { on(ev); }, e);
        if (done_) {
            in_flight_.reset();  // the whole response is with the connection now
        }
    }

    static bool empty(const core::text_delta& d) {
        return d.text.empty() && d.reasoning.empty() && d.tool_calls.empty() && d.logprobs.empty();
    }

    void on(core::text_delta& d) {
        if (!readers_.empty()) {
            d = readers_[static_cast<size_t>(d.index)]->read(std::move(d));
        }
        if (stream_) {
            if (!empty(d)) {
                send(format_->stream_delta(d));
            }
            return;
        }
        auto& choice = result_.choices[static_cast<size_t>(d.index)];
        choice.text += d.text;
        for (auto& lp : d.logprobs) {
            choice.logprobs.push_back(std::move(lp));
        }
    }

    // The answer read whole: what the stream still owes, and the reading
    // that the whole response gives.
    void finish_reading(core::choice_finished& f, choice_result& choice) {
        auto& reader = *readers_[static_cast<size_t>(f.index)];
        const core::text_delta tail = reader.finish(f.index);
        if (stream_ && !empty(tail)) {
            send(format_->stream_delta(tail));
        }
        const auto& answer = reader.answer();
        choice.text = answer.text;
        choice.reasoning = answer.reasoning;
        choice.tool_calls = answer.tool_calls;
        if (!choice.tool_calls.empty() && f.reason == core::finish_reason::stop) {
            f.reason = core::finish_reason::tool_calls;
        }
    }

    void on(core::choice_finished& f) {
        auto& choice = result_.choices[static_cast<size_t>(f.index)];
        if (!readers_.empty()) {
            finish_reading(f, choice);
        }
        choice.reason = f.reason;
        choice.stop_sequence = f.stop_sequence;
        result_.prompt_tokens = f.prompt_tokens;
        if (f.index == 0) {
            result_.cached_tokens = f.cached_tokens;
        }
        result_.completion_tokens += f.completion_tokens;
        if (stream_) {
            send(format_->stream_finish(f));
        }
        if (++finished_ < n_) {
            return;
        }
        done_ = true;
        ex_->annotate("prompt_tokens", result_.prompt_tokens);
        ex_->annotate("cached_tokens", result_.cached_tokens);
        ex_->annotate("completion_tokens", result_.completion_tokens);
        // The response counts as in flight until the connection has its end.
        auto ex = ex_;
        if (!stream_) {
            format_->complete([ex, in_flight = in_flight_, body = format_->response(result_)] {
                ex->send(200, body);
            });
            return;
        }
        format_->complete([ex, in_flight = in_flight_, events = format_->stream_end(result_)] {
            for (const auto& e : events) {
                ex->send_event(e);
            }
            ex->end_stream();
        });
    }

    void on(core::choice_failed& f) {
        done_ = true;
        cancel();  // the other choices of this request are of no use now
        if (!stream_) {
            respond_error_(f.error);
            return;
        }
        core::log::error(*logger(), "generation.failed_mid_stream",
                         {{"req", request_id_},
                          {"code", core::name(f.error.code)},
                          {"detail", f.error.internal_detail}});
        send(format_->stream_error(f.error));
        ex_->end_stream();
    }

    std::shared_ptr<exchange> ex_;
    std::shared_ptr<void> in_flight_;
    const std::string request_id_;
    std::unique_ptr<formatter> format_;
    std::vector<std::unique_ptr<engine::answer_reader>> readers_;  // one per choice, when read
    error_responder respond_error_;
    const bool stream_;
    const int32_t n_;
    completion_result result_;
    int32_t finished_ = 0;
    bool done_ = false;
};

void submit_prepared(generation_context& c, engine::prompt prompt) {
    // A deadline that passed while the media was fetched or the prompt
    // prepared is answered now, before any stream starts.
    if (std::chrono::steady_clock::now() >= c.deadline) {
        core::log::warn(*logger(), "generation.timeout",
                        {{"req", c.request_id}, {"state", "preparing"}});
        c.respond_error(engine::timeout_error());
        return;
    }
    auto sink =
        std::make_shared<generation_sink>(c.ex, std::move(c.format), c.request, prompt.answer,
                                          c.request_id, c.respond_error, c.in_flight);
    // Whether streaming or not, a client that leaves stops its generation.
    c.ex->on_disconnect([weak = std::weak_ptr<generation_sink>(sink)] {
        if (auto s = weak.lock()) {
            s->cancel();
        }
    });

    engine::generation_job job;
    job.request_id = c.request_id;
    // A request has tools or an output format, never both (prepare refuses it).
    job.grammar = prompt.grammar;
    if (job.grammar.empty()) {
        job.grammar.text = std::move(c.grammar);
    }
    job.prompt = std::move(prompt);
    job.sampling = c.request.sampling;
    job.max_tokens = c.request.max_tokens;
    job.stop = c.request.stop;
    job.n = c.request.n;
    job.top_logprobs = c.request.top_logprobs;
    job.deadline = c.deadline;
    job.sink = sink;
    const auto prompt_tokens = static_cast<int32_t>(job.prompt.n_tokens());
    if (auto ok = c.engine->submit(std::move(job)); !ok) {
        c.respond_error(ok.error());
        return;
    }
    if (c.request.stream) {
        sink->begin_stream(prompt_tokens);
    }
}

// Media that passed the gate must also be something the model can take:
// refused here, after the gate and before any response byte.
core::expected<void> check_modalities(const generation_context& c) {
    const auto& info = c.engine->loaded_model().info();
    for (const auto& m : c.request.messages) {
        for (const auto& p : m.parts) {
            if (p.kind == core::part_kind::text) {
                continue;
            }
            const bool audio = p.kind == core::part_kind::audio;
            if (!info.has_projector) {
                return core::unexpected(core::make_error(
                    core::error_code::invalid_value,
                    std::string("This model does not accept ") + core::name(p.kind) +
                        " input: it was loaded without a multimodal projector.",
                    p.param));
            }
            if (audio ? !info.has_audio : !info.has_vision) {
                return core::unexpected(core::make_error(
                    core::error_code::invalid_value,
                    std::string("This model does not accept ") + core::name(p.kind) +
                        " input: its projector takes " + (audio ? "images" : "audio") + " only.",
                    p.param));
            }
        }
    }
    return {};
}

// Says which part an engine error about media bytes concerns.
core::error locate_media_error(const core::chat_request& r, core::error e) {
    for (const auto& m : r.messages) {
        for (const auto& p : m.parts) {
            if (p.kind != core::part_kind::text && !e.param.empty() && p.param == e.param) {
                const auto kind = p.kind == core::part_kind::audio ? media::media_kind::audio
                                                                   : media::media_kind::image;
                return media::locate(std::move(e), kind, p.param);
            }
        }
    }
    return e;
}

// Runs on a blocking worker: everything that may take long or fail before
// the response starts.
core::expected<engine::prompt> prepare(generation_context& c) {
    const int32_t n_vocab = c.engine->loaded_model().info().n_vocab;
    for (const auto& [token, bias] : c.request.sampling.logit_bias) {
        if (token >= n_vocab) {
            return core::unexpected(core::make_error(
                core::error_code::invalid_value,
                "logit_bias names token " + std::to_string(token) +
                    ", but this model's tokens are 0 to " + std::to_string(n_vocab - 1) + ".",
                "logit_bias"));
        }
    }
    if (!c.request.tools.empty() && c.request.tool_choice != core::tool_choice::none &&
        c.request.output.kind != core::output_kind::text) {
        return core::unexpected(core::make_error(
            core::error_code::unsupported_parameter,
            "Unsupported parameter '" + c.request.output.param +
                "': a response format together with tools is not supported yet; the answer "
                "can be held to one or the other.",
            c.request.output.param));
    }
    // Checked before any media is fetched: it needs nothing but the request.
    auto grammar = engine::output_grammar(c.engine->loaded_model(), c.request.output);
    if (!grammar) {
        return core::unexpected(grammar.error());
    }
    c.grammar = std::move(*grammar);
    std::vector<engine::media_expansion> media;
    if (media::media_gate::has_media(c.request)) {
        if (c.gate == nullptr) {
            return core::unexpected(core::make_error(core::error_code::internal,
                                                     "This server cannot take media input."));
        }
        if (auto ok = c.gate->resolve(c.request, c.request_id); !ok) {
            return core::unexpected(ok.error());
        }
        if (auto ok = check_modalities(c); !ok) {
            return core::unexpected(ok.error());
        }
        auto expanded = expand_media(c.request, c.gate->limits());
        if (!expanded) {
            return core::unexpected(expanded.error());
        }
        media = std::move(*expanded);
    }
    auto prompt = engine::prepare_prompt(
        c.engine->loaded_model(), c.request, media,
        c.count_only ? engine::prompt_use::count : engine::prompt_use::generate);
    if (!prompt) {
        return core::unexpected(locate_media_error(c.request, std::move(prompt.error())));
    }
    return prompt;
}

}  // namespace

void start_generation(generation_context context) {
    auto shared = std::make_shared<generation_context>(std::move(context));
    shared->run_blocking([shared] {
        auto tokens = prepare(*shared);
        shared->ex->post([shared, tokens = std::move(tokens)]() mutable {
            if (!tokens) {
                shared->respond_error(tokens.error());
                return;
            }
            submit_prepared(*shared, std::move(*tokens));
        });
    });
}

void start_token_count(generation_context context, count_responder body) {
    context.count_only = true;
    auto shared = std::make_shared<generation_context>(std::move(context));
    shared->run_blocking([shared, body = std::move(body)] {
        auto prompt = prepare(*shared);
        shared->ex->post([shared, body, prompt = std::move(prompt)] {
            if (!prompt) {
                shared->respond_error(prompt.error());
                return;
            }
            shared->ex->send(200, body(static_cast<int32_t>(prompt->n_tokens())));
        });
    });
}

}  // namespace osprey::api
