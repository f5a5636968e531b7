#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "media/resolver.hpp"
#include "media/url_policy.hpp"

namespace osprey::testing {

// Answers from a table and counts the lookups. A name may have a sequence of
// answers, one per lookup (the last repeats), to play DNS rebinding.
class fake_resolver : public media::resolver {
public:
    void set(const std::string& host, std::vector<std::vector<media::ip_address>> answers) {
        std::lock_guard lock(mutex_);
        answers_[host] = std::move(answers);
    }

    core::expected<std::vector<media::ip_address>> resolve(const std::string& host) override {
        std::lock_guard lock(mutex_);
        const int n = lookups_[host]++;
        auto it = answers_.find(host);
        if (it == answers_.end() || it->second.empty()) {
            return core::unexpected(media::media_refusal("rule=unresolvable host=" + host));
        }
        const auto& seq = it->second;
        return seq[std::min<size_t>(static_cast<size_t>(n), seq.size() - 1)];
    }

    int lookups(const std::string& host) {
        std::lock_guard lock(mutex_);
        return lookups_[host];
    }

private:
    std::mutex mutex_;
    std::map<std::string, std::vector<std::vector<media::ip_address>>> answers_;
    std::map<std::string, int> lookups_;
};

}  // namespace osprey::testing
