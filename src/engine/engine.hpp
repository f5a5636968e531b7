#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/chat_request.hpp"
#include "core/error.hpp"
#include "core/events.hpp"
#include "engine/model.hpp"
#include "engine/prompt.hpp"

struct llama_batch;

namespace osprey::engine {

// One request's work: a tokenized prompt and `n` choices to generate from it.
struct generation_job {
    std::string request_id;
    osprey::engine::prompt prompt;
    core::sampling_params sampling;
    grammar_spec grammar;  // from output_grammar or the prompt's tools; empty for free text
    std::optional<int32_t> max_tokens;
    std::vector<std::string> stop;
    int32_t n = 1;
    int32_t top_logprobs = -1;
    // When the request must be over (--request-timeout): past it, its
    // choices fail with error_code::timeout, queued or running.
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    std::shared_ptr<core::event_sink> sink;
};

// What a choice past its job's deadline fails with; also for the adapters,
// when the deadline passes before the job reaches the engine.
core::error timeout_error();

// Runs generation on one thread of its own. Every active sequence advances
// in one llama_decode per step: sampled tokens first, then prompt tokens in
// chunks up to the batch size, so a long prompt never stalls the others for
// more than one step. New work joins between steps.
//
// A sequence keeps what it decoded after its choice ends. A new choice goes
// to the free sequence whose kept tokens share the longest start with its
// prompt, and decodes only the rest: a repeated system prompt, or the earlier
// turns of a conversation, cost nothing the second time. A sequence is taken
// only where what it reuses outweighs what it evicts, so a few shared
// template tokens do not cost another conversation its cached prompt. Only
// text before the prompt's first media chunk is reused.
//
// A job past its deadline fails with error_code::timeout: between steps when
// it runs, at the next step when it waits in the queue.
class engine {
public:
    // Starts the engine thread. `max_queue` bounds the choices waiting for a
    // free sequence.
    engine(std::unique_ptr<model> m, int32_t max_queue);
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    const model& loaded_model() const { return *model_; }

    // Thread-safe. Queues the job's choices; their events then reach the
    // job's sink from the engine thread. Errors: too_many_requests when the
    // queue is full, unavailable after stop().
    core::expected<void> submit(generation_job job);

    // Fails what is queued or running with `unavailable` and joins the thread.
    void stop();

private:
    struct slot;
    struct choice_task {
        std::shared_ptr<const generation_job> job;
        int32_t index = 0;
    };

    void run();
    bool wait_for_work();
    slot* best_slot(const generation_job& job);
    void admit(slot& s, choice_task task);
    size_t copy_from_donor(slot& s, const prompt& p, size_t reuse);
    void release_cancelled();
    void expire_running();
    std::vector<choice_task> take_expired_queued();
    bool step(llama_batch& batch);
    void evaluate_media();
    core::expected<void> evaluate_media(slot& s);
    void fill_batch(llama_batch& batch);
    void allot_prompt_chunks();
    void process_output(slot& s);
    void finish(slot& s, core::finish_reason reason);
    void fail(slot& s, const core::error& e);
    void release(slot& s);
    void forget(slot& s);
    void fail_everything();

    std::unique_ptr<model> model_;
    const int32_t max_queue_;
    std::vector<std::unique_ptr<slot>> slots_;
    uint64_t admissions_ = 0;  // engine thread only: orders the slots by use
    // The fewest prompt tokens worth copying another sequence for (see
    // copy_from_donor).
    size_t min_copied_tokens_ = 0;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<choice_task> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace osprey::engine
