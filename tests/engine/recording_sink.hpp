#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/events.hpp"

namespace osprey::engine {

// Collects a request's events as the engine sends them.
class recording_sink : public core::event_sink {
public:
    explicit recording_sink(int32_t choices, int cancel_after_deltas = -1)
        : text_(static_cast<size_t>(choices)), cancel_after_(cancel_after_deltas) {}

    void on_event(core::event e) override {
        std::lock_guard lock(mutex_);
        ++events_;
        if (auto* d = std::get_if<core::text_delta>(&e)) {
            text_[static_cast<size_t>(d->index)] += d->text;
            logprobs_ += d->logprobs.size();
            if (++deltas_ == cancel_after_) {
                cancel();
                cancelled_cv_.notify_all();
            }
        } else if (auto* f = std::get_if<core::choice_finished>(&e)) {
            finished_.push_back(*f);
        } else {
            failed_ = true;
            failure_ = std::get<core::choice_failed>(e).error.code;
        }
        cv_.notify_all();
    }

    bool wait_finished(size_t n) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, std::chrono::seconds(30), [&] {
            return finished_.size() >= n || failed_;
        }) && !failed_;
    }

    std::string text(int32_t i) {
        std::lock_guard lock(mutex_);
        return text_[static_cast<size_t>(i)];
    }
    std::vector<core::choice_finished> finished() {
        std::lock_guard lock(mutex_);
        return finished_;
    }
    bool failed() {
        std::lock_guard lock(mutex_);
        return failed_;
    }
    // Waits for the request to fail, and says with what.
    std::optional<core::error_code> wait_failure() {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, std::chrono::seconds(30), [&] { return failed_; });
        return failed_ ? std::optional(failure_) : std::nullopt;
    }
    int events() {
        std::lock_guard lock(mutex_);
        return events_;
    }
    size_t logprobs() {
        std::lock_guard lock(mutex_);
        return logprobs_;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::condition_variable cancelled_cv_;
    std::vector<std::string> text_;
    std::vector<core::choice_finished> finished_;
    bool failed_ = false;
    core::error_code failure_ = core::error_code::internal;
    int events_ = 0;
    int deltas_ = 0;
    size_t logprobs_ = 0;
    int cancel_after_;
};

}  // namespace osprey::engine
