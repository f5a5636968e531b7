#include "engine/engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>

#include <common.h>
#include <llama.h>
#include <mtmd-helper.h>
#include <mtmd.h>

#include "core/log.hpp"
#include "engine/sampler.hpp"
#include "engine/slot_choice.hpp"
#include "engine/text_stream.hpp"

namespace osprey::engine {

namespace {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto l = core::log::get("engine");
    return l;
}

uint32_t choice_seed(const core::sampling_params& p, int32_t index) {
    if (p.seed) {
        // Each choice of one request draws its own sequence, reproducibly.
        return *p.seed + static_cast<uint32_t>(index);
    }
    static std::mt19937 generator{std::random_device{}()};
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    return generator();
}

void add_to_batch(llama_batch& b, llama_token token, llama_pos pos, llama_seq_id seq, bool logits) {
    const int32_t i = b.n_tokens++;
    b.token[i] = token;
    b.pos[i] = pos;
    b.n_seq_id[i] = 1;
    b.seq_id[i][0] = seq;
    b.logits[i] = logits;
}

}  // namespace

// One sequence of the context, and the choice that occupies it. Touched only
// by the engine thread.
struct engine::slot {
    llama_seq_id seq_id = 0;
    std::optional<choice_task> task;
    size_t prompt_done = 0;  // prompt text tokens already decoded
    size_t media_done = 0;   // prompt media chunks already decoded
    llama_pos n_past = 0;    // next position in the sequence
    int32_t n_generated = 0;
    std::optional<llama_token> next;  // sampled, to be decoded next step
    int32_t logits_row = -1;          // batch row holding this slot's logits
    size_t chunk = 0;                 // prompt tokens going into this step
    size_t reused = 0;                // prompt tokens found in the sequence already
    std::unique_ptr<sampler> smp;
    std::unique_ptr<text_stream> stream;
    // The tokens in the sequence, position by position, from its start up to
    // the first media chunk (whose positions need not match token indices):
    // what the next choice here may reuse.
    std::vector<llama_token> kept;
    bool kept_complete = true;  // false once media made positions diverge
    size_t kept_prompt = 0;     // of `kept`, the tokens of its last prompt
    uint64_t last_used = 0;     // when its last choice was admitted; 0: never

    const generation_job& job() const { return *task->job; }
    bool prompt_pending() const {
        return task &&
               (prompt_done < job().prompt.tokens.size() || media_done < job().prompt.media.size());
    }

    // Text tokens may go into the batch up to the next media chunk, which is
    // decoded on its own first.
    size_t text_limit() const {
        const auto& p = job().prompt;
        return media_done < p.media.size() ? p.media[media_done].at : p.tokens.size();
    }

    bool media_next() const {
        if (!task) {
            return false;
        }
        const auto& media = job().prompt.media;
        return media_done < media.size() && media[media_done].at == prompt_done;
    }
};

namespace {

// Copying a sequence copies its whole KV stream, `stream_bytes`; a prompt
// token takes about two operations per parameter. On the CPU of
// bench/RESULTS.md (osprey's llama.cpp build runs on the CPU) a prompt runs
// at about 160 GFLOP/s and a copy at 9.5 GB/s, 17 operations in the time of
// one byte, so a copy pays once it saves 17 / 2 * stream_bytes / n_params
// tokens; 10 leaves a margin for what else the step that copies does
// (llama.cpp synchronizes and reserves its graph again). At least one.
size_t min_copied_tokens(const model_info& info) {
    if (info.parallel <= 0 || info.n_params == 0) {
        return SIZE_MAX;
    }
    const double stream_bytes = static_cast<double>(info.kv_cache_bytes) / info.parallel;
    return std::max<size_t>(1, static_cast<size_t>(std::ceil(10 * stream_bytes / info.n_params)));
}

}  // namespace

engine::engine(std::unique_ptr<model> m, int32_t max_queue)
    : model_(std::move(m)),
      max_queue_(max_queue),
      min_copied_tokens_(min_copied_tokens(model_->info())) {
    const auto n_seq = static_cast<int32_t>(llama_n_seq_max(model_->context()));
    for (int32_t i = 0; i < n_seq; ++i) {
        slots_.push_back(std::make_unique<slot>());
        slots_.back()->seq_id = i;
    }
    thread_ = std::thread([this] { run(); });
}

engine::~engine() {
    stop();
}

core::expected<void> engine::submit(generation_job job) {
    auto shared = std::make_shared<const generation_job>(std::move(job));
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            return core::unexpected(
                core::make_error(core::error_code::unavailable, "The server is shutting down."));
        }
        // Requests whose clients left must not keep others out.
        std::erase_if(queue_, [](const choice_task& t) { return t.job->sink->cancelled(); });
        if (static_cast<int64_t>(queue_.size()) + shared->n > max_queue_) {
            return core::unexpected(core::make_error(
                core::error_code::too_many_requests,
                "The server is busy: too many requests are waiting. Retry shortly."));
        }
        for (int32_t i = 0; i < shared->n; ++i) {
            queue_.push_back({shared, i});
        }
    }
    wake_.notify_one();
    return {};
}

void engine::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !thread_.joinable()) {
            return;
        }
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void engine::run() {
    const auto n_batch = static_cast<int32_t>(llama_n_batch(model_->context()));
    llama_batch batch = llama_batch_init(n_batch, 0, 1);
    while (wait_for_work()) {
        release_cancelled();
        expire_running();
        step(batch);
    }
    llama_batch_free(batch);
    fail_everything();
}

// Blocks until there is something to decode, and moves queued choices into
// free slots. Returns false when the engine is stopping.
bool engine::wait_for_work() {
    auto busy = [this] {
        for (const auto& s : slots_) {
            if (s->task) {
                return true;
            }
        }
        return false;
    };
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || busy(); });
    if (stopping_) {
        return false;
    }
    const auto expired = take_expired_queued();
    for (const auto& task : expired) {
        task.job->sink->on_event(core::choice_failed{task.index, timeout_error()});
    }
    while (!queue_.empty()) {
        choice_task task = std::move(queue_.front());
        queue_.pop_front();
        if (task.job->sink->cancelled()) {
            continue;
        }
        slot* s = best_slot(*task.job);
        if (s == nullptr) {
            queue_.push_front(std::move(task));
            break;
        }
        admit(*s, std::move(task));
    }
    return true;
}

namespace {

// How many of the prompt's leading tokens `kept` already holds: never the
// whole prompt, since its last token must be decoded again for the logits
// that the first answer token is sampled from.
size_t reusable(const std::vector<llama_token>& kept, const prompt& p) {
    if (p.tokens.empty()) {
        return 0;
    }
    const size_t text_end = p.media.empty() ? p.tokens.size() : p.media.front().at;
    const size_t limit = std::min({kept.size(), text_end, p.tokens.size() - 1});
    size_t n = 0;
    while (n < limit && kept[n] == p.tokens[n]) {
        ++n;
    }
    return n;
}

}  // namespace

// The free slot for a job, by the order choose_slot explains.
engine::slot* engine::best_slot(const generation_job& job) {
    std::vector<slot_view> views;
    views.reserve(slots_.size());
    for (const auto& s : slots_) {
        views.push_back({s->task.has_value(), s->kept.size(), s->kept_prompt,
                         s->task ? 0 : reusable(s->kept, job.prompt), s->last_used});
    }
    const auto i = choose_slot(views);
    return i ? slots_[*i].get() : nullptr;
}

void engine::admit(slot& s, choice_task task) {
    const auto& job = *task.job;
    // Keeps the shared start of the sequence and drops the rest. A memory
    // that cannot drop part of a sequence (a recurrent model's), or one that
    // no longer holds its start (a sliding window's, past the window), is
    // cleared instead.
    llama_memory_t memory = llama_get_memory(model_->context());
    size_t reuse = reusable(s.kept, job.prompt);
    if (reuse > 0 && (llama_memory_seq_pos_min(memory, s.seq_id) != 0 ||
                      !llama_memory_seq_rm(memory, s.seq_id, static_cast<llama_pos>(reuse), -1))) {
        reuse = 0;
    }
    if (reuse == 0) {
        forget(s);
    }
    s.kept.resize(reuse);
    reuse = copy_from_donor(s, job.prompt, reuse);
    s.kept_complete = true;
    s.kept_prompt =
        job.prompt.media.empty() ? job.prompt.tokens.size() : job.prompt.media.front().at;
    s.reused = reuse;
    s.prompt_done = reuse;
    s.n_past = static_cast<llama_pos>(reuse);
    s.smp = std::make_unique<sampler>(job.sampling, model_->vocab(), model_->info().n_vocab,
                                      choice_seed(job.sampling, task.index), job.grammar);
    s.stream = std::make_unique<text_stream>(job.stop);
    s.task = std::move(task);
    s.last_used = ++admissions_;
    core::log::debug(*logger(), "engine.admit",
                     {{"req", job.request_id},
                      {"choice", s.task->index},
                      {"seq", s.seq_id},
                      {"prompt_tokens", job.prompt.n_tokens()},
                      {"reused_tokens", reuse}});
}

// When another sequence, running or idle, holds more of the prompt's start
// than `s` does (the same system prompt for several clients at once), `s`
// starts from a copy of it. Each sequence has a KV stream of its own, which
// llama.cpp copies whole (at the next decode), so the copy is taken only when
// it saves at least min_copied_tokens_. Returns the tokens `s` now holds.
size_t engine::copy_from_donor(slot& s, const prompt& p, size_t reuse) {
    llama_memory_t memory = llama_get_memory(model_->context());
    const slot* donor = nullptr;
    size_t best = reuse;
    for (const auto& d : slots_) {
        if (d.get() == &s) {
            continue;
        }
        const size_t n = reusable(d->kept, p);
        if (n > best && llama_memory_seq_pos_min(memory, d->seq_id) == 0) {
            donor = d.get();
            best = n;
        }
    }
    if (donor == nullptr || best - reuse < min_copied_tokens_) {
        return reuse;
    }
    llama_memory_seq_cp(memory, donor->seq_id, s.seq_id, -1, -1);
    if (!llama_memory_seq_rm(memory, s.seq_id, static_cast<llama_pos>(best), -1)) {
        forget(s);
        return 0;
    }
    s.kept.assign(donor->kept.begin(), donor->kept.begin() + static_cast<std::ptrdiff_t>(best));
    core::log::debug(*logger(), "engine.prefix_copied",
                     {{"from_seq", donor->seq_id}, {"seq", s.seq_id}, {"tokens", best}});
    return best;
}

core::error timeout_error() {
    return core::make_error(core::error_code::timeout,
                            "The request ran past the server's time limit and was stopped.");
}

// Called with mutex_ held: removes the queued choices whose deadline passed
// while they waited for a sequence.
std::vector<engine::choice_task> engine::take_expired_queued() {
    std::vector<choice_task> expired;
    const auto now = std::chrono::steady_clock::now();
    // A copy, not a move: erase_if's predicate may not change the element.
    std::erase_if(queue_, [&](const choice_task& t) {
        if (t.job->deadline > now || t.job->sink->cancelled()) {
            return false;
        }
        core::log::warn(*logger(), "engine.timeout",
                        {{"req", t.job->request_id}, {"choice", t.index}, {"state", "queued"}});
        expired.push_back(t);
        return true;
    });
    return expired;
}

// A running choice past its deadline ends before the next decode step. What
// its sequence decoded stays valid, for a later prompt to reuse.
void engine::expire_running() {
    const auto now = std::chrono::steady_clock::now();
    for (auto& s : slots_) {
        if (!s->task || s->job().deadline > now) {
            continue;
        }
        core::log::warn(*logger(), "engine.timeout",
                        {{"req", s->job().request_id},
                         {"choice", s->task->index},
                         {"state", "running"},
                         {"generated", s->n_generated}});
        s->job().sink->on_event(core::choice_failed{s->task->index, timeout_error()});
        release(*s);
    }
}

// A client that went away frees its sequences before the next decode step.
void engine::release_cancelled() {
    for (auto& s : slots_) {
        if (s->task && s->job().sink->cancelled()) {
            core::log::debug(*logger(), "engine.cancelled",
                             {{"req", s->job().request_id},
                              {"choice", s->task->index},
                              {"generated", s->n_generated}});
            release(*s);
        }
    }
}

// Fills the batch: each generating slot's sampled token, then prompt tokens
// in what room is left, a chunk at a time, the prompt admitted first served
// first. Tokens go in in sequence order, so that llama.cpp can decode
// consecutive sequences in one pass.
void engine::fill_batch(llama_batch& batch) {
    allot_prompt_chunks();
    batch.n_tokens = 0;
    for (auto& s : slots_) {
        s->logits_row = -1;
        if (!s->task) {
            continue;
        }
        if (s->next) {
            if (s->kept_complete) {
                s->kept.push_back(*s->next);
            }
            add_to_batch(batch, *s->next, s->n_past++, s->seq_id, true);
            s->logits_row = batch.n_tokens - 1;
            s->next.reset();
            continue;
        }
        const auto& prompt = s->job().prompt.tokens;
        for (; s->chunk > 0; --s->chunk) {
            const bool last = s->prompt_done + 1 == prompt.size();
            if (s->kept_complete) {
                s->kept.push_back(prompt[s->prompt_done]);
            }
            add_to_batch(batch, prompt[s->prompt_done++], s->n_past++, s->seq_id, last);
            if (last) {
                s->logits_row = batch.n_tokens - 1;
            }
        }
    }
}

// Sets each slot's `chunk`: how many prompt tokens go into this step. The
// room is the batch size less a token for every generating slot (the batch
// size is at least --parallel); prompts take it in the order they came in.
void engine::allot_prompt_chunks() {
    auto room = static_cast<size_t>(llama_n_batch(model_->context()));
    std::vector<slot*> prompts;
    for (const auto& s : slots_) {
        s->chunk = 0;
        if (s->task && s->next) {
            --room;
        } else if (s->task && s->prompt_done < s->text_limit()) {
            prompts.push_back(s.get());
        }
    }
    std::sort(prompts.begin(), prompts.end(),
              [](const slot* a, const slot* b) { return a->last_used < b->last_used; });
    for (slot* s : prompts) {
        s->chunk = std::min(room, s->text_limit() - s->prompt_done);
        room -= s->chunk;
    }
}

// Decodes one batch from every active slot, and samples for each slot whose
// logits it produced. Returns false when there was nothing to do.
bool engine::step(llama_batch& batch) {
    evaluate_media();
    fill_batch(batch);
    if (batch.n_tokens == 0) {
        return false;
    }
    if (const int32_t rc = llama_decode(model_->context(), batch); rc != 0) {
        core::error e = core::make_error(core::error_code::internal,
                                         "The model failed to generate a response.");
        e.internal_detail = "llama_decode returned " + std::to_string(rc);
        for (auto& s : slots_) {
            if (s->task && (s->logits_row >= 0 || s->prompt_done > 0)) {
                fail(*s, e);
            }
        }
        return true;
    }
    for (auto& s : slots_) {
        if (s->task && s->logits_row >= 0) {
            process_output(*s);
        }
    }
    return true;
}

// Decodes the projector's embeddings for every slot that has reached a media
// chunk of its prompt (they were encoded while the prompt was prepared). Each
// takes llama_decode calls of its own: an image's tokens may attend to each
// other both ways (gemma3), which a batch shared with other sequences cannot
// allow.
void engine::evaluate_media() {
    for (auto& s : slots_) {
        while (s->media_next()) {
            if (auto ok = evaluate_media(*s); !ok) {
                fail(*s, ok.error());
                break;
            }
        }
    }
}

core::expected<void> engine::evaluate_media(slot& s) {
    const media_chunk& m = s.job().prompt.media[s.media_done];
    core::error e =
        core::make_error(core::error_code::internal, "The model failed to read the media input.");
    if (!m.cached) {
        e.internal_detail = "a media chunk reached the engine unencoded";
        return core::unexpected(e);
    }
    s.kept_complete = false;
    llama_pos n_past = s.n_past;
    const auto n_batch = static_cast<int32_t>(llama_n_batch(model_->context()));
    // The helper only reads the embeddings; its signature predates const.
    const int32_t rc = mtmd_helper_decode_image_chunk(
        model_->projector(), model_->context(), m.chunk.get(), const_cast<float*>(m.cached->data()),
        s.n_past, s.seq_id, n_batch, &n_past, nullptr, nullptr);
    if (rc != 0) {
        e.internal_detail = "mtmd_helper_decode_image_chunk returned " + std::to_string(rc);
        return core::unexpected(e);
    }
    s.n_past = n_past;
    ++s.media_done;
    return {};
}

void engine::process_output(slot& s) {
    llama_context* ctx = model_->context();
    const llama_vocab* vocab = model_->vocab();
    const auto& job = s.job();

    const auto sampled = s.smp->sample(ctx, s.logits_row);
    if (!sampled) {
        fail(s, sampled.error());
        return;
    }
    const llama_token token = *sampled;
    ++s.n_generated;
    if (llama_vocab_is_eog(vocab, token)) {
        finish(s, core::finish_reason::stop);
        return;
    }

    // Control tokens are not text, but for those the template writes as
    // markers of reasoning and tool calls, which the answer must keep.
    const auto& preserved = job.prompt.answer.preserved_tokens;
    auto piece = [vocab, &preserved](int32_t t) {
        const bool keep = std::find(preserved.begin(), preserved.end(), t) != preserved.end();
        return common_token_to_piece(vocab, t, keep);
    };
    std::optional<core::token_logprob> logprob;
    if (job.top_logprobs >= 0) {
        logprob = compute_logprob(llama_get_logits_ith(ctx, s.logits_row), model_->info().n_vocab,
                                  token, job.top_logprobs, piece);
    }
    auto out = s.stream->push(piece(token), std::move(logprob));
    if (!out.text.empty() || !out.logprobs.empty()) {
        job.sink->on_event(
            core::text_delta{s.task->index, std::move(out.text), std::move(out.logprobs), {}, {}});
    }

    if (s.stream->stopped()) {
        finish(s, core::finish_reason::stop);
    } else if (job.max_tokens && s.n_generated >= *job.max_tokens) {
        finish(s, core::finish_reason::length);
    } else if (s.n_past >= model_->info().n_ctx_seq) {
        finish(s, core::finish_reason::length);
    } else {
        s.next = token;
    }
}

void engine::finish(slot& s, core::finish_reason reason) {
    const auto& job = s.job();
    auto rest = s.stream->flush();
    if (!rest.text.empty() || !rest.logprobs.empty()) {
        job.sink->on_event(core::text_delta{
            s.task->index, std::move(rest.text), std::move(rest.logprobs), {}, {}});
    }
    job.sink->on_event(core::choice_finished{s.task->index, reason, s.stream->matched(),
                                             static_cast<int32_t>(job.prompt.n_tokens()),
                                             static_cast<int32_t>(s.reused), s.n_generated});
    release(s);
}

void engine::fail(slot& s, const core::error& e) {
    core::log::error(*logger(), "engine.failed",
                     {{"req", s.job().request_id}, {"detail", e.internal_detail}});
    s.job().sink->on_event(core::choice_failed{s.task->index, e});
    forget(s);  // what a failed decode left in the sequence is not to be trusted
    release(s);
}

// Frees the slot for the next choice; what its sequence holds stays, for
// that choice to reuse.
void engine::release(slot& s) {
    s.task.reset();
    s.prompt_done = 0;
    s.media_done = 0;
    s.n_past = 0;
    s.n_generated = 0;
    s.next.reset();
    s.logits_row = -1;
    s.reused = 0;
    s.smp.reset();
    s.stream.reset();
}

void engine::forget(slot& s) {
    llama_memory_seq_rm(llama_get_memory(model_->context()), s.seq_id, -1, -1);
    s.kept.clear();
    s.kept_complete = true;
    s.kept_prompt = 0;
}

void engine::fail_everything() {
    const core::error e =
        core::make_error(core::error_code::unavailable, "The server is shutting down.");
    for (auto& s : slots_) {
        if (s->task) {
            s->job().sink->on_event(core::choice_failed{s->task->index, e});
            release(*s);
        }
    }
    std::deque<choice_task> queued;
    {
        std::lock_guard lock(mutex_);
        queued.swap(queue_);
    }
    for (auto& task : queued) {
        task.job->sink->on_event(core::choice_failed{task.index, e});
    }
}

}  // namespace osprey::engine
