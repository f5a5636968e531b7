#include "engine/text_stream.hpp"

#include <algorithm>

#include "core/utf8.hpp"

namespace osprey::engine {

text_stream::text_stream(std::vector<std::string> stop) : stop_(std::move(stop)) {
    std::erase_if(stop_, [](const std::string& s) { return s.empty(); });
}

text_stream::output text_stream::push(std::string_view piece,
                                      std::optional<core::token_logprob> logprob) {
    if (stopped_) {
        return {};
    }
    const std::size_t start = pending_.size();
    pending_ += piece;
    if (logprob) {
        pending_logprobs_.emplace_back(pending_.size(), std::move(*logprob));
    }

    // Text before `start` was already checked, and held back only as far as
    // a stop sequence could begin in it; so searching from just before the
    // new bytes finds every stop sequence exactly once.
    std::size_t earliest = std::string::npos;
    const std::string* first = nullptr;
    for (const auto& s : stop_) {
        const std::size_t from = start >= s.size() ? start - s.size() + 1 : 0;
        if (const std::size_t at = pending_.find(s, from); at < earliest) {
            earliest = at;
            first = &s;
        }
    }
    if (first != nullptr) {
        stopped_ = true;
        matched_ = *first;
        // Tokens whose bytes end before the stop sequence keep their logprobs.
        auto out = take(earliest);
        pending_.clear();
        pending_logprobs_.clear();
        return out;
    }

    std::size_t safe = pending_.size() - held_for_stop();
    safe = core::utf8_complete_prefix(std::string_view(pending_).substr(0, safe));
    return take(safe);
}

text_stream::output text_stream::flush() {
    auto out = take(pending_.size());
    for (auto& [end, logprob] : pending_logprobs_) {
        out.logprobs.push_back(std::move(logprob));
    }
    pending_logprobs_.clear();
    return out;
}

// The longest tail of the pending bytes that is a proper prefix of a stop
// sequence: it may turn into a stop sequence once more tokens arrive.
std::size_t text_stream::held_for_stop() const {
    std::size_t held = 0;
    for (const auto& s : stop_) {
        const std::size_t longest = std::min(s.size() - 1, pending_.size());
        for (std::size_t len = longest; len > held; --len) {
            if (pending_.compare(pending_.size() - len, len, s, 0, len) == 0) {
                held = len;
                break;
            }
        }
    }
    return held;
}

// Removes the first `bytes` bytes of pending text and returns them, with the
// logprobs of the tokens whose bytes lie inside them.
text_stream::output text_stream::take(std::size_t bytes) {
    output out;
    if (bytes == 0) {
        return out;
    }
    out.text = core::sanitize_utf8(std::string_view(pending_).substr(0, bytes));
    pending_.erase(0, bytes);

    auto it = pending_logprobs_.begin();
    for (; it != pending_logprobs_.end() && it->first <= bytes; ++it) {
        out.logprobs.push_back(std::move(it->second));
    }
    pending_logprobs_.erase(pending_logprobs_.begin(), it);
    for (auto& entry : pending_logprobs_) {
        entry.first -= bytes;
    }
    return out;
}

}  // namespace osprey::engine
