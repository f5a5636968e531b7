#include "bench/load/options.hpp"

#include <CLI/CLI.hpp>

#include "bench/load/host_check.hpp"

namespace osprey::bench::load {

namespace {

// What CLI11 cannot say about an optional value without a sentinel: whether it was given.
struct optional_inputs {
    CLI::Option* logit_bias = nullptr;
    CLI::Option* server_pid = nullptr;
    CLI::Option* hold = nullptr;
    int64_t logit_bias_token = 0;
    int server_pid_value = 0;
    double hold_s = 0;
};

// A table of options, one statement each; it runs long and reads best whole.
void add_options(CLI::App& app, options& o, optional_inputs& in) {
    app.add_option("--host", o.host, "server address: localhost, 127.0.0.0/8 or ::1")
        ->capture_default_str();
    app.add_option("--port", o.port, "server port")->required()->check(CLI::Range(1, 65535));
    app.add_option("--model", o.model, "model name sent in each request")->required();
    app.add_option("--concurrency", o.concurrency, "clients, each with its own connection")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    app.add_option("--requests", o.requests, "requests in all (default: the concurrency)")
        ->check(CLI::Range(1, 100000000));
    app.add_option("--max-tokens", o.max_tokens, "max_tokens of each request")
        ->check(CLI::Range(1, 1 << 24))
        ->capture_default_str();
    app.add_option("--prompt-words", o.prompt_words, "words in each prompt (at least 4)")
        ->check(CLI::Range(1, 1 << 22))
        ->capture_default_str();
    app.add_option("--temperature", o.temperature, "sampling temperature")
        ->check(CLI::Range(0.0, 2.0))
        ->capture_default_str();
    in.logit_bias = app.add_option("--logit-bias-token", in.logit_bias_token,
                                   "token id biased by -100, to keep the model from ending early")
                        ->check(CLI::NonNegativeNumber);
    app.add_option("--timeout-s", o.timeout_s,
                   "seconds one request (or one stream's start) may take")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--seed", o.seed, "seed of the prompt filler")->capture_default_str();
    app.add_option("--out", o.out_path, "write the JSON report to this file");
    in.server_pid =
        app.add_option("--server-pid", in.server_pid_value, "server process whose memory to report")
            ->check(CLI::PositiveNumber);
    in.hold = app.add_option("--hold-s", in.hold_s,
                             "idle-streams mode: open every stream at once, hold them this long")
                  ->check(CLI::NonNegativeNumber);
}

tl::expected<options, options_exit> finish(options o, const optional_inputs& in) {
    const auto address = loopback_address(o.host);
    if (!address) {
        return tl::unexpected(options_exit{
            2, "--host " + o.host + ": only localhost, 127.0.0.0/8 and ::1 are allowed\n"});
    }
    o.address = *address;

    if (o.requests == 0) {
        o.requests = o.concurrency;
    }
    if (in.logit_bias->count() > 0) {
        o.logit_bias_token = in.logit_bias_token;
    }
    if (in.server_pid->count() > 0) {
        o.server_pid = in.server_pid_value;
    }
    if (in.hold->count() > 0) {
        o.hold_s = in.hold_s;
    }
    return o;
}

}  // namespace

tl::expected<options, options_exit> parse_options(int argc, const char* const* argv) {
    CLI::App app(
        "osprey-bench-load: streams chat completions from an OpenAI-compatible server "
        "on loopback and reports throughput, latency and memory");
    options o;
    optional_inputs in;
    add_options(app, o, in);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        return tl::unexpected(options_exit{0, app.help()});
    } catch (const CLI::ParseError& e) {
        return tl::unexpected(
            options_exit{2, std::string(e.what()) + "\nRun with --help for more information.\n"});
    }
    return finish(std::move(o), in);
}

}  // namespace osprey::bench::load
