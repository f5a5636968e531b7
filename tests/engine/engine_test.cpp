#include "engine/engine.hpp"
#include "engine/grammar.hpp"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/model.hpp"
#include "engine/prompt.hpp"
#include "recording_sink.hpp"

namespace osprey::engine {
namespace {

core::message user_message(const std::string& text) {
    core::message m;
    m.parts.emplace_back();
    m.parts.back().text = text;
    return m;
}

class EngineTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        initialize_backend();
        auto m = load_stories(256);
        ASSERT_TRUE(m);
        engine_ = new engine(std::move(m), 4);
    }

    // The trained model with two sequences of `ctx_size` tokens; null when
    // it does not load (the test then fails with llama.cpp's reason).
    static std::unique_ptr<model> load_stories(int32_t ctx_size) {
        model_options o;
        o.model_path = OSPREY_STORIES_MODEL;
        o.ctx_size = ctx_size;
        o.parallel = 2;
        o.threads = 2;
        auto m = model::load(o, nullptr);
        EXPECT_TRUE(m) << m.error().internal_detail;
        return m ? std::move(*m) : nullptr;
    }

    // Runs `second` on a fresh engine while `first` is running there, and
    // returns how `second` finished, with its text.
    static std::pair<core::choice_finished, std::string> run_beside(const std::string& first,
                                                                    const std::string& second);
    static void TearDownTestSuite() {
        delete engine_;
        engine_ = nullptr;
    }

    static generation_job job_for(const std::string& user_text, int32_t max_tokens,
                                  std::shared_ptr<core::event_sink> sink) {
        core::chat_request r;
        r.messages.push_back(user_message(user_text));
        r.max_tokens = max_tokens;
        auto tokens = prepare_prompt(engine_->loaded_model(), r);
        EXPECT_TRUE(tokens);
        generation_job job;
        job.request_id = "req_test";
        job.prompt = *tokens;
        job.max_tokens = max_tokens;
        job.sampling.temperature = 0.0f;
        job.sink = std::move(sink);
        return job;
    }

    // Samples one answer held to `grammar`, at temperature 1 with `seed`.
    static std::shared_ptr<recording_sink> sample_with(const std::string& grammar, uint32_t seed,
                                                       int32_t max_tokens) {
        auto sink = std::make_shared<recording_sink>(1);
        auto job = job_for("Tell me a story.", max_tokens, sink);
        job.grammar.text = grammar;
        job.sampling.temperature = 1.0f;
        job.sampling.seed = seed;
        EXPECT_TRUE(engine_->submit(std::move(job)));
        EXPECT_TRUE(sink->wait_finished(1));
        return sink;
    }

    static engine* engine_;
};

engine* EngineTest::engine_ = nullptr;

// For tests outside the fixture's own members.
struct EngineTestAccess : EngineTest {
    static const model& loaded() { return engine_->loaded_model(); }
};

TEST_F(EngineTest, LoadsTheTrainedModelWithFallbackTemplate) {
    const auto& info = engine_->loaded_model().info();
    EXPECT_EQ(info.architecture, "llama");
    EXPECT_EQ(info.n_vocab, 512);
    EXPECT_FALSE(info.has_chat_template);
    EXPECT_EQ(info.n_ctx_seq, 256);
}

TEST_F(EngineTest, RefusesAPromptLongerThanTheContext) {
    core::chat_request r;
    std::string long_text;
    for (int i = 0; i < 400; ++i) {
        long_text += "once upon a time ";
    }
    r.messages.push_back(user_message(long_text));
    auto tokens = prepare_prompt(engine_->loaded_model(), r);
    ASSERT_FALSE(tokens);
    EXPECT_EQ(tokens.error().code, core::error_code::context_length_exceeded);
}

TEST_F(EngineTest, RefusesMaxTokensPastTheContext) {
    core::chat_request r;
    r.messages.push_back(user_message("Hi"));
    r.max_tokens = 1000;
    auto tokens = prepare_prompt(engine_->loaded_model(), r);
    ASSERT_FALSE(tokens);
    EXPECT_EQ(tokens.error().param, "max_tokens");
}

TEST_F(EngineTest, GeneratesUpToMaxTokensThenFinishesWithLength) {
    auto sink = std::make_shared<recording_sink>(1);
    ASSERT_TRUE(engine_->submit(job_for("Tell me a story.", 8, sink)));
    ASSERT_TRUE(sink->wait_finished(1));
    auto f = sink->finished().at(0);
    EXPECT_EQ(f.reason, core::finish_reason::length);
    EXPECT_EQ(f.completion_tokens, 8);
    EXPECT_GT(f.prompt_tokens, 0);
    EXPECT_FALSE(sink->text(0).empty());
}

// Whatever the weights, the answer is a JSON object: at temperature 1, over
// several seeds, each answer opens an object, and each that ends by itself
// is a whole one.
TEST_F(EngineTest, AGrammarHoldsTheAnswerToAJsonObject) {
    auto grammar = output_grammar(engine_->loaded_model(),
                                  {core::output_kind::json_object, "", "", "response_format"});
    ASSERT_TRUE(grammar) << grammar.error().internal_detail;
    int whole = 0;
    for (uint32_t seed = 1; seed <= 4; ++seed) {
        auto sink = sample_with(*grammar, seed, 60);
        ASSERT_EQ(sink->finished().size(), 1u);
        const std::string text = sink->text(0);
        EXPECT_EQ(text.substr(text.find_first_not_of(" \t\n"), 1), "{") << text;
        if (sink->finished().at(0).reason == core::finish_reason::stop) {
            EXPECT_TRUE(nlohmann::json::parse(text, nullptr, false).is_object()) << text;
            ++whole;
        }
    }
    EXPECT_GT(whole, 0);
    EXPECT_EQ(output_grammar(engine_->loaded_model(), {}).value_or("?"), "");
}

// The answer to a client's schema parses and matches it, whatever the
// weights: here a story model asked for an object of a name and an age.
TEST_F(EngineTest, AGrammarHoldsTheAnswerToAClientSchema) {
    core::output_format format{core::output_kind::json_schema, R"({"type": "object",
        "properties": {"name": {"type": "string", "maxLength": 12},
                       "age": {"type": "integer", "minimum": 1, "maximum": 99}},
        "required": ["name", "age"], "additionalProperties": false})",
                               "schema", "response_format"};
    auto grammar = output_grammar(engine_->loaded_model(), format);
    ASSERT_TRUE(grammar) << grammar.error().internal_detail;
    for (uint32_t seed = 1; seed <= 3; ++seed) {
        auto sink = sample_with(*grammar, seed, 80);
        ASSERT_EQ(sink->finished().size(), 1u);
        ASSERT_EQ(sink->finished().at(0).reason, core::finish_reason::stop) << sink->text(0);
        const auto answer = nlohmann::json::parse(sink->text(0), nullptr, false);
        ASSERT_TRUE(answer.is_object()) << sink->text(0);
        EXPECT_EQ(answer.size(), 2u) << answer;
        EXPECT_TRUE(answer["name"].is_string() && answer["name"].get<std::string>().size() <= 12);
        EXPECT_TRUE(answer["age"].is_number_integer());
        EXPECT_GE(answer["age"].get<int>(), 1);
        EXPECT_LE(answer["age"].get<int>(), 99);
    }
}

TEST_F(EngineTest, ASchemaTheConverterRefusesIsTheClientsError) {
    core::output_format format{core::output_kind::json_schema, R"({"type": false})", "schema",
                               "response_format"};
    auto grammar = output_grammar(engine_->loaded_model(), format);
    ASSERT_FALSE(grammar);
    EXPECT_EQ(grammar.error().code, core::error_code::invalid_value);
    EXPECT_EQ(grammar.error().param, "schema");
}

// A grammar that no token can continue makes llama.cpp throw while
// sampling: the choice fails, and the engine serves on.
TEST_F(EngineTest, AGrammarWithNoWayOnFailsTheChoiceOnly) {
    auto stuck = std::make_shared<recording_sink>(1);
    auto job = job_for("Tell me a story.", 8, stuck);
    job.grammar.text = R"(root ::= "{" [\x00])";
    ASSERT_TRUE(engine_->submit(std::move(job)));
    EXPECT_FALSE(stuck->wait_finished(1));
    EXPECT_TRUE(stuck->failed());

    auto next = std::make_shared<recording_sink>(1);
    ASSERT_TRUE(engine_->submit(job_for("Tell me a story.", 4, next)));
    ASSERT_TRUE(next->wait_finished(1));
    EXPECT_EQ(next->finished().size(), 1u);
}

// The second request with a prompt finds all of it but the last token in the
// sequence the first one left, and answers exactly as without reuse.
// How many leading tokens two prompts share.
size_t shared_start(const prompt& a, const prompt& b) {
    size_t n = 0;
    while (n < a.tokens.size() && n < b.tokens.size() && a.tokens[n] == b.tokens[n]) {
        ++n;
    }
    return n;
}

TEST_F(EngineTest, ReusesThePromptOfAnEarlierRequest) {
    const std::string text = "Reuse check: Lily and Ben went to the zoo to see the lions.";
    auto first = std::make_shared<recording_sink>(1);
    ASSERT_TRUE(engine_->submit(job_for(text, 12, first)));
    ASSERT_TRUE(first->wait_finished(1));
    auto second = std::make_shared<recording_sink>(1);
    ASSERT_TRUE(engine_->submit(job_for(text, 12, second)));
    ASSERT_TRUE(second->wait_finished(1));

    const auto a = first->finished().at(0);
    const auto b = second->finished().at(0);
    EXPECT_EQ(b.prompt_tokens, a.prompt_tokens);
    EXPECT_EQ(b.cached_tokens, b.prompt_tokens - 1);
    EXPECT_LT(a.cached_tokens, b.cached_tokens);
    EXPECT_EQ(second->text(0), first->text(0));
}

// A conversation's next turn reuses the turns before it: the prompt grows
// at the end, and what came before is read from the sequence.
// Regression: a prompt that shared only the chat template's first tokens
// with a cached one took that cached sequence and evicted it, though the
// other sequence sat idle; the cached prompt was then lost to its next turn.
TEST_F(EngineTest, AFewSharedTokensDoNotEvictAnotherCachedPrompt) {
    auto m = load_stories(256);
    ASSERT_TRUE(m);
    engine fresh(std::move(m), 4);
    auto run = [&](const std::string& text) {
        auto sink = std::make_shared<recording_sink>(1);
        EXPECT_TRUE(fresh.submit(job_for(text, 4, sink)));
        EXPECT_TRUE(sink->wait_finished(1));
        return sink->finished().at(0);
    };
    const std::string kept =
        "Once there was a little dog named Max who loved to dig in the garden.";
    run(kept);
    run("A different story about a cat and a big red ball in the sun.");
    const auto again = run(kept);
    EXPECT_EQ(again.cached_tokens, again.prompt_tokens - 1);
}

TEST_F(EngineTest, ReusesTheEarlierTurnsOfAConversation) {
    core::chat_request turn;
    turn.messages.push_back(user_message("Reuse check two: a story about a red kite."));
    turn.max_tokens = 6;
    auto first = prepare_prompt(engine_->loaded_model(), turn);
    ASSERT_TRUE(first);
    turn.messages.push_back(user_message("And then?"));
    auto second = prepare_prompt(engine_->loaded_model(), turn);
    ASSERT_TRUE(second);

    auto run = [](const prompt& p) {
        auto sink = std::make_shared<recording_sink>(1);
        generation_job job;
        job.request_id = "req_reuse";
        job.prompt = p;
        job.max_tokens = 6;
        job.sampling.temperature = 0.0f;
        job.sink = sink;
        EXPECT_TRUE(engine_->submit(std::move(job)));
        EXPECT_TRUE(sink->wait_finished(1));
        return sink->finished().at(0);
    };
    run(*first);
    const auto next = run(*second);
    const size_t shared = shared_start(*first, *second);
    ASSERT_GT(shared, 8u);
    EXPECT_GE(next.cached_tokens, static_cast<int32_t>(shared) - 1);
    EXPECT_LE(next.cached_tokens, static_cast<int32_t>(shared));
}

// Holds the engine in a request's first token until open(), so that what is
// submitted meanwhile is admitted while this request runs.
class gated_sink : public recording_sink {
public:
    gated_sink() : recording_sink(1) {}

    void on_event(core::event e) override {
        const bool delta = std::holds_alternative<core::text_delta>(e);
        recording_sink::on_event(std::move(e));
        std::unique_lock lock(gate_mutex_);
        if (delta && !first_seen_) {
            first_seen_ = true;
            gate_.notify_all();
            gate_.wait_for(lock, std::chrono::seconds(30), [&] { return open_; });
        }
    }
    bool wait_first_delta() {
        std::unique_lock lock(gate_mutex_);
        return gate_.wait_for(lock, std::chrono::seconds(30), [&] { return first_seen_; });
    }
    void open() {
        std::lock_guard lock(gate_mutex_);
        open_ = true;
        gate_.notify_all();
    }

private:
    std::mutex gate_mutex_;
    std::condition_variable gate_;
    bool first_seen_ = false;
    bool open_ = false;
};

std::pair<core::choice_finished, std::string> EngineTest::run_beside(const std::string& first,
                                                                     const std::string& second) {
    auto m = load_stories(512);
    if (!m) {
        return {};
    }
    engine fresh(std::move(m), 4);
    auto running = std::make_shared<gated_sink>();
    EXPECT_TRUE(fresh.submit(job_for(first, 12, running)));
    EXPECT_TRUE(running->wait_first_delta());
    auto beside = std::make_shared<recording_sink>(1);
    EXPECT_TRUE(fresh.submit(job_for(second, 12, beside)));
    running->open();
    EXPECT_TRUE(beside->wait_finished(1));
    EXPECT_TRUE(running->wait_finished(1));
    return {beside->finished().at(0), beside->text(0)};
}

// Two clients with the same long system prompt at once: the second starts
// from a copy of the first's sequence, and answers as it would from scratch.
TEST_F(EngineTest, APromptStartsFromACopyOfARunningSequenceThatHoldsItsStart) {
    const std::string system =
        "Copy check. Once upon a time there was a little girl named Lily. She lived in a small "
        "house with her mom and dad and her dog Max. Every day Lily and Max went to the park "
        "to play with the ball, and every day they came home tired and happy.";
    const std::string second = system + " What did Max find in the park?";
    const auto [beside, text] = run_beside(system + " Tell me the end.", second);

    core::chat_request r;
    r.messages.push_back(user_message(system + " Tell me the end."));
    const auto first_prompt = prepare_prompt(engine_->loaded_model(), r);
    r.messages.back() = user_message(second);
    const auto second_prompt = prepare_prompt(engine_->loaded_model(), r);
    ASSERT_TRUE(first_prompt && second_prompt);
    const size_t shared = shared_start(*first_prompt, *second_prompt);
    ASSERT_GT(shared, 40u);
    EXPECT_EQ(beside.cached_tokens, static_cast<int32_t>(shared));

    // The same prompt alone, on the fixture's engine, which has not seen it.
    auto alone = std::make_shared<recording_sink>(1);
    ASSERT_TRUE(engine_->submit(job_for(second, 12, alone)));
    ASSERT_TRUE(alone->wait_finished(1));
    EXPECT_LT(alone->finished().at(0).cached_tokens, beside.cached_tokens);
    EXPECT_EQ(text, alone->text(0));
}

// A copy moves the whole KV stream of a sequence: a few shared tokens (the
// chat template's first ones) are not worth it.
TEST_F(EngineTest, AFewSharedTokensAreNotCopied) {
    const auto [beside, text] =
        run_beside("Lily had a red ball.", "Max the dog ran to the big green tree.");
    EXPECT_EQ(beside.cached_tokens, 0);
    EXPECT_FALSE(text.empty());
}

TEST_F(EngineTest, GreedyGenerationIsDeterministic) {
    auto a = std::make_shared<recording_sink>(1);
    auto b = std::make_shared<recording_sink>(1);
    ASSERT_TRUE(engine_->submit(job_for("Lily went to the park.", 20, a)));
    ASSERT_TRUE(engine_->submit(job_for("Lily went to the park.", 20, b)));
    ASSERT_TRUE(a->wait_finished(1));
    ASSERT_TRUE(b->wait_finished(1));
    EXPECT_EQ(a->text(0), b->text(0));
}

TEST_F(EngineTest, SeveralChoicesEachFinish) {
    auto sink = std::make_shared<recording_sink>(3);
    auto job = job_for("A cat", 6, sink);
    job.n = 3;
    job.sampling.temperature = 1.0f;
    job.sampling.seed = 7;
    ASSERT_TRUE(engine_->submit(std::move(job)));
    ASSERT_TRUE(sink->wait_finished(3));
    std::vector<bool> seen(3, false);
    for (const auto& f : sink->finished()) {
        seen.at(static_cast<size_t>(f.index)) = true;
    }
    EXPECT_EQ(seen, std::vector<bool>(3, true));
}

TEST_F(EngineTest, LogprobsArrivePerToken) {
    auto sink = std::make_shared<recording_sink>(1);
    auto job = job_for("The dog", 5, sink);
    job.top_logprobs = 3;
    ASSERT_TRUE(engine_->submit(std::move(job)));
    ASSERT_TRUE(sink->wait_finished(1));
    EXPECT_GE(sink->logprobs(), 1u);
}

TEST_F(EngineTest, CancelledRequestStopsAndEngineKeepsServing) {
    auto cancelled = std::make_shared<recording_sink>(1, 2);
    ASSERT_TRUE(engine_->submit(job_for("Once upon a time", 200, cancelled)));
    // A later request still completes, so the cancelled one freed its sequence.
    auto next = std::make_shared<recording_sink>(1);
    auto second = std::make_shared<recording_sink>(1);
    ASSERT_TRUE(engine_->submit(job_for("Hello", 4, next)));
    ASSERT_TRUE(engine_->submit(job_for("Hello", 4, second)));
    ASSERT_TRUE(next->wait_finished(1));
    ASSERT_TRUE(second->wait_finished(1));
    EXPECT_TRUE(cancelled->finished().empty());
    EXPECT_LT(cancelled->events(), 10);
}

// A bias of -100 bans a token: banning all but one leaves that one, which
// is what a bias of +100 on it alone also gives.
TEST_F(EngineTest, LogitBiasBansAndForcesTokens) {
    auto run = [](std::vector<std::pair<int32_t, float>> bias) {
        auto sink = std::make_shared<recording_sink>(1);
        auto job = job_for("Once upon a time", 4, sink);
        job.sampling.logit_bias = std::move(bias);
        EXPECT_TRUE(engine_->submit(std::move(job)));
        EXPECT_TRUE(sink->wait_finished(1));
        return sink->text(0);
    };
    const std::string forced = run({{300, 100.0f}});
    std::vector<std::pair<int32_t, float>> all_but_300;
    for (int32_t t = 0; t < 512; ++t) {
        if (t != 300) {
            all_but_300.emplace_back(t, -100.0f);
        }
    }
    EXPECT_EQ(run(all_but_300), forced);
    ASSERT_FALSE(forced.empty());
    EXPECT_EQ(forced, forced.substr(0, forced.size() / 4) + forced.substr(0, forced.size() / 4) +
                          forced.substr(0, forced.size() / 4) +
                          forced.substr(0, forced.size() / 4));
    EXPECT_NE(run({}), forced);
}

TEST_F(EngineTest, AQueuedRequestPastItsDeadlineFailsWithTimeout) {
    auto sink = std::make_shared<recording_sink>(1);
    auto job = job_for("Once upon a time", 20, sink);
    job.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    ASSERT_TRUE(engine_->submit(std::move(job)));
    EXPECT_EQ(sink->wait_failure(), core::error_code::timeout);
    EXPECT_EQ(sink->events(), 1);  // the failure alone: it never ran
}

// Holds the engine thread in its first delta until the job's deadline has
// passed, so that the deadline falls between two steps without a timed race.
class sink_that_outlasts : public recording_sink {
public:
    explicit sink_that_outlasts(std::chrono::steady_clock::time_point until)
        : recording_sink(1), until_(until) {}
    void on_event(core::event e) override {
        if (std::holds_alternative<core::text_delta>(e) && !waited_) {
            waited_ = true;
            std::this_thread::sleep_until(until_ + std::chrono::milliseconds(1));
        }
        recording_sink::on_event(std::move(e));
    }

private:
    std::chrono::steady_clock::time_point until_;
    bool waited_ = false;
};

TEST_F(EngineTest, ARunningRequestPastItsDeadlineStopsWithTimeout) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    auto sink = std::make_shared<sink_that_outlasts>(deadline);
    auto job = job_for("Once upon a time", 200, sink);
    job.deadline = deadline;
    ASSERT_TRUE(engine_->submit(std::move(job)));
    EXPECT_EQ(sink->wait_failure(), core::error_code::timeout);
    EXPECT_TRUE(sink->finished().empty());

    // Its sequence is free again.
    auto next = std::make_shared<recording_sink>(1);
    ASSERT_TRUE(engine_->submit(job_for("Hello", 4, next)));
    EXPECT_TRUE(next->wait_finished(1));
}

TEST_F(EngineTest, FullQueueRefusesWithTooManyRequests) {
    std::vector<std::shared_ptr<recording_sink>> sinks;
    core::expected<void> last;
    for (int i = 0; i < 20 && last; ++i) {
        sinks.push_back(std::make_shared<recording_sink>(1));
        last = engine_->submit(job_for("Busy", 30, sinks.back()));
    }
    ASSERT_FALSE(last);
    EXPECT_EQ(last.error().code, core::error_code::too_many_requests);
    for (auto& s : sinks) {
        s->cancel();
    }
}

}  // namespace
}  // namespace osprey::engine

namespace osprey::engine {
namespace {

// Regression: a prompt made of special-token text costs llama.cpp's tokenizer
// quadratic time; one that cannot fit must be refused before tokenizing.
TEST_F(EngineTest, RefusesAHugePromptBeforeTokenizingIt) {
    core::chat_request r;
    std::string huge;
    for (int i = 0; i < 200000; ++i) {
        huge += "<s>";
    }
    r.prompt = huge;
    auto tokens = prepare_prompt(engine_->loaded_model(), r);
    ASSERT_FALSE(tokens);
    EXPECT_EQ(tokens.error().code, core::error_code::context_length_exceeded);
    EXPECT_EQ(tokens.error().param, "prompt");
}

// Regression: requests whose clients had left stayed in the queue and
// counted against its bound, so new requests got 429 until a slot freed.
TEST_F(EngineTest, CancelledQueuedRequestsDoNotFillTheQueue) {
    std::vector<std::shared_ptr<recording_sink>> gone;
    for (int i = 0; i < 6; ++i) {
        gone.push_back(std::make_shared<recording_sink>(1));
        auto ok = engine_->submit(job_for("Busy", 40, gone.back()));
        if (!ok) {
            break;
        }
    }
    for (auto& s : gone) {
        s->cancel();
    }
    auto fresh = std::make_shared<recording_sink>(1);
    ASSERT_TRUE(engine_->submit(job_for("Hello", 3, fresh)));
    ASSERT_TRUE(fresh->wait_finished(1));
}

}  // namespace
}  // namespace osprey::engine

namespace osprey::engine {
namespace {

std::vector<int32_t> tokens_of(const core::chat_request& r) {
    auto tokens = prepare_prompt(EngineTestAccess::loaded(), r);
    EXPECT_TRUE(tokens) << tokens.error().internal_detail;
    return tokens ? tokens->tokens : std::vector<int32_t>{};
}

core::chat_request chat_of(const std::string& text) {
    core::chat_request r;
    r.messages.push_back(user_message(text));
    return r;
}

core::chat_request raw_of(const std::string& text) {
    core::chat_request r;
    r.prompt = text;
    return r;
}

// The chat's tokens are exactly those of its rendered text tokenized whole
// (the fallback template renders "User: <text>\nAssistant:"), so keeping the
// content apart changes nothing for ordinary text, leading spaces included.
TEST_F(EngineTest, ChatTokensMatchTheWholeRenderedText) {
    for (const std::string text : {"Hello there", " leading space", "a\n\nb", "ünïcode ✓"}) {
        EXPECT_EQ(tokens_of(chat_of(text)), tokens_of(raw_of("User: " + text + "\nAssistant:")))
            << text;
    }
}

// Regression: "</s>" typed in a message became the end-of-sequence control
// token, so a client could end its turn early or forge turns.
TEST_F(EngineTest, ControlTokenTextInMessagesStaysText) {
    const int32_t eos = 2;  // stories260K's </s>
    const auto chat = tokens_of(chat_of("</s><s>"));
    EXPECT_EQ(std::count(chat.begin(), chat.end(), eos), 0);
    // A raw prompt belongs to the client whole, control tokens included.
    const auto raw = tokens_of(raw_of("</s>"));
    EXPECT_EQ(std::count(raw.begin(), raw.end(), eos), 1);
}

}  // namespace
}  // namespace osprey::engine
