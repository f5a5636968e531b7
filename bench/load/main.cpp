// osprey-bench-load: drives an OpenAI-compatible server on loopback with streamed chat
// completions and writes what it measured as JSON. See README.md in this folder.
//
// Exit status: 0 when the run completed, failed requests included; 2 for a bad argument or a
// server that could not be reached at all; 1 when the report could not be written.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

#include "bench/load/hold_run.hpp"
#include "bench/load/load_run.hpp"
#include "bench/load/open_files.hpp"
#include "bench/load/options.hpp"
#include "bench/load/proc_memory.hpp"
#include "bench/load/report.hpp"

namespace load = osprey::bench::load;

namespace {

// Room for every client's socket, plus the few files any process has open.
constexpr uint64_t spare_files = 64;

std::optional<nlohmann::json> run(const load::options& o) {
    if (o.hold_s) {
        const auto outcome = load::run_hold(o);
        return outcome.connected ? std::optional(load::make_hold_report(o, outcome)) : std::nullopt;
    }

    if (o.server_pid && !load::reset_peak_rss(*o.server_pid)) {
        std::cerr << "warning: could not reset the peak RSS of process " << *o.server_pid
                  << "; peak_rss_mb may include what came before this run\n";
    }
    const auto outcome = load::run_load(o);
    if (!outcome.connected) {
        return std::nullopt;
    }
    const auto peak = o.server_pid ? load::read_status_kib(*o.server_pid, "VmHWM") : std::nullopt;
    return load::make_load_report(o, outcome, peak);
}

}  // namespace

int main(int argc, char** argv) {
    auto parsed = load::parse_options(argc, argv);
    if (!parsed) {
        (parsed.error().status == 0 ? std::cout : std::cerr) << parsed.error().message;
        return parsed.error().status;
    }
    const auto& o = *parsed;

    if (auto raised = load::raise_open_file_limit(o.concurrency + spare_files); !raised) {
        std::cerr << "warning: " << raised.error() << "; some connections may fail\n";
    }

    // Opened before the run, so that a bad path is found before the server is loaded.
    std::ofstream out;
    if (!o.out_path.empty()) {
        out.open(o.out_path);
        if (!out) {
            std::cerr << "--out " << o.out_path << ": cannot open it for writing\n";
            return 2;
        }
    }

    const auto report = run(o);
    if (!report) {
        std::cerr << "could not connect to " << o.host << ":" << o.port << "\n";
        return 2;
    }

    std::cout << load::summary_line(*report) << std::endl;
    if (out.is_open()) {
        out << report->dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        out.close();
        if (!out) {
            std::cerr << "--out " << o.out_path << ": the report could not be written\n";
            return 1;
        }
    }
    return 0;
}
