#include "bench/load/report.hpp"

#include <algorithm>
#include <cstdio>

#include "bench/load/percentile.hpp"

namespace osprey::bench::load {

namespace {

using json = nlohmann::json;

double milliseconds(clock_type::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

json number_or_null(std::optional<double> v) {
    return v ? json(*v) : json(nullptr);
}

json mib_or_null(std::optional<int64_t> kib) {
    return kib ? json(static_cast<double>(*kib) / 1024.0) : json(nullptr);
}

json p50_p99(const std::vector<double>& values) {
    return {{"p50", number_or_null(percentile_nearest_rank(values, 50))},
            {"p99", number_or_null(percentile_nearest_rank(values, 99))}};
}

json run_settings(const options& o) {
    json s = {{"host", o.host},
              {"port", o.port},
              {"model", o.model},
              {"concurrency", o.concurrency},
              {"max_tokens", o.max_tokens},
              {"prompt_words", o.prompt_words},
              {"temperature", o.temperature},
              {"seed", o.seed}};
    s["logit_bias_token"] = o.logit_bias_token ? json(*o.logit_bias_token) : json(nullptr);
    return s;
}

// The figures taken from successful requests: time to first token, gaps between tokens, and
// token counts.
struct latency_samples {
    std::vector<double> ttft_ms;
    std::vector<double> itl_ms;
    std::vector<double> decode_tokens_per_s;
    std::vector<double> prompt_tokens;
    int64_t output_tokens = 0;
};

latency_samples collect(const load_outcome& outcome) {
    latency_samples l;
    for (const auto& r : outcome.records) {
        if (!succeeded(r)) {
            continue;
        }
        if (!r.content_times.empty()) {
            l.ttft_ms.push_back(milliseconds(r.content_times.front() - r.sent));
        }
        for (std::size_t i = 1; i < r.content_times.size(); ++i) {
            l.itl_ms.push_back(milliseconds(r.content_times[i] - r.content_times[i - 1]));
        }
        l.output_tokens += r.completion_tokens.value_or(0);
        // A stream's own decode speed, from its first token to its last. Chunks that arrive
        // together (one TCP read) leave gaps of zero, so this, not the ITL, is the rate.
        if (r.completion_tokens && *r.completion_tokens > 1 && r.content_times.size() > 1) {
            const double span_ms = milliseconds(r.content_times.back() - r.content_times.front());
            if (span_ms > 0) {
                l.decode_tokens_per_s.push_back(static_cast<double>(*r.completion_tokens - 1) *
                                                1000.0 / span_ms);
            }
        }
        if (r.prompt_tokens) {
            l.prompt_tokens.push_back(static_cast<double>(*r.prompt_tokens));
        }
    }
    return l;
}

// From the first request written to the last one finished, failed ones included.
double wall_seconds(const load_outcome& outcome) {
    std::optional<clock_type::time_point> first, last;
    for (const auto& r : outcome.records) {
        if (r.started != clock_type::time_point{}) {
            first = first ? std::min(*first, r.started) : r.started;
        }
        if (r.finished != clock_type::time_point{}) {
            last = last ? std::max(*last, r.finished) : r.finished;
        }
    }
    if (!first || !last || *last < *first) {
        return 0;
    }
    return std::chrono::duration<double>(*last - *first).count();
}

std::string format_number(const json& v, const char* format) {
    if (!v.is_number()) {
        return "-";
    }
    char text[64];
    std::snprintf(text, sizeof text, format, v.get<double>());
    return text;
}

std::string load_summary(const json& r) {
    return "load: requests=" + r["requests"].dump() + " errors=" + r["errors"].dump() +
           " wall_s=" + format_number(r["wall_s"], "%.3f") +
           " output_tokens=" + r["output_tokens"].dump() +
           " tokens_per_s=" + format_number(r["tokens_per_s"], "%.1f") +
           " ttft_ms_p50=" + format_number(r["ttft_ms"]["p50"], "%.1f") +
           " ttft_ms_p99=" + format_number(r["ttft_ms"]["p99"], "%.1f") +
           " itl_ms_p50=" + format_number(r["itl_ms"]["p50"], "%.2f") +
           " itl_ms_p99=" + format_number(r["itl_ms"]["p99"], "%.2f") +
           " peak_rss_mb=" + format_number(r["peak_rss_mb"], "%.1f");
}

std::string hold_summary(const json& r) {
    return "hold: streams=" + r["streams"].dump() + " open=" + r["open"].dump() +
           " refused=" + r["refused"].dump() + " failed=" + r["failed"].dump() +
           " ended_early=" + r["ended_during_hold"].dump() +
           " rss_before_mb=" + format_number(r["rss_before_mb"], "%.1f") +
           " rss_held_mb=" + format_number(r["rss_held_mb"], "%.1f") +
           " per_stream_kb=" + format_number(r["per_stream_kb"], "%.1f");
}

}  // namespace

json make_load_report(const options& o, const load_outcome& outcome,
                      std::optional<int64_t> peak_rss_kib) {
    const auto l = collect(outcome);
    const auto errors = std::count_if(outcome.records.begin(), outcome.records.end(),
                                      [](const stream_record& r) { return !succeeded(r); });
    const double wall_s = wall_seconds(outcome);

    json report = {{"mode", "load"}, {"settings", run_settings(o)}};
    report["requests"] = outcome.records.size();
    report["errors"] = errors;
    report["error_samples"] = outcome.error_samples;
    report["wall_s"] = wall_s;
    report["output_tokens"] = l.output_tokens;
    report["tokens_per_s"] =
        wall_s > 0 ? json(static_cast<double>(l.output_tokens) / wall_s) : json(nullptr);
    report["ttft_ms"] = p50_p99(l.ttft_ms);
    report["itl_ms"] = p50_p99(l.itl_ms);
    report["decode_tokens_per_s"] = p50_p99(l.decode_tokens_per_s);
    report["prompt_tokens"] = {{"mean", number_or_null(mean(l.prompt_tokens))}};
    report["peak_rss_mb"] = mib_or_null(peak_rss_kib);
    return report;
}

json make_hold_report(const options& o, const hold_outcome& outcome) {
    json report = {{"mode", "hold"}, {"settings", run_settings(o)}};
    report["hold_s"] = o.hold_s.value_or(0);
    report["streams"] = outcome.streams;
    report["open"] = outcome.open;
    report["refused"] = outcome.refused;
    report["failed"] = outcome.failed;
    report["ended_during_hold"] = outcome.ended_during_hold;
    json by_status = json::object();
    for (const auto& [status, count] : outcome.refused_by_status) {
        by_status[std::to_string(status)] = count;
    }
    report["refused_by_status"] = by_status;
    report["refusal_samples"] = outcome.refusal_samples;
    report["error_samples"] = outcome.error_samples;
    report["headers_s"] = outcome.headers_s;
    report["rss_before_mb"] = mib_or_null(outcome.rss_before_kib);
    report["rss_held_mb"] = mib_or_null(outcome.rss_held_kib);
    report["rss_end_mb"] = mib_or_null(outcome.rss_end_kib);

    json delta_mb = nullptr;
    json per_stream_kb = nullptr;
    if (outcome.rss_before_kib && outcome.rss_held_kib) {
        const auto delta_kib = *outcome.rss_held_kib - *outcome.rss_before_kib;
        delta_mb = static_cast<double>(delta_kib) / 1024.0;
        if (outcome.open > 0) {
            per_stream_kb = static_cast<double>(delta_kib) / outcome.open;
        }
    }
    report["rss_delta_mb"] = delta_mb;
    report["per_stream_kb"] = per_stream_kb;
    return report;
}

std::string summary_line(const json& r) {
    return r.value("mode", "") == "hold" ? hold_summary(r) : load_summary(r);
}

}  // namespace osprey::bench::load
