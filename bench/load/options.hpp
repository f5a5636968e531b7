#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/ip/address.hpp>
#include <tl/expected.hpp>

namespace osprey::bench::load {

struct options {
    std::string host = "127.0.0.1";
    boost::asio::ip::address address;  // `host`, checked to be loopback
    uint16_t port = 8080;
    std::string model;
    int concurrency = 1;
    int requests = 0;  // after parsing, never 0: it defaults to `concurrency`
    int max_tokens = 128;
    int prompt_words = 64;
    double temperature = 0;
    std::optional<int64_t> logit_bias_token;  // biased by -100, to keep a model from ending
    double timeout_s = 600;                   // per request; in hold mode, per stream's start
    uint64_t seed = 1;
    std::string out_path;  // empty: no JSON file
    std::optional<int> server_pid;
    std::optional<double> hold_s;  // set: the idle-streams mode
};

// Why the run must not start: the text for the terminal and the exit status (0 after --help,
// whose text goes to stdout; 2 for a bad argument, whose text goes to stderr).
struct options_exit {
    int status;
    std::string message;
};

// Parses the command line. Refuses a host that is not loopback.
tl::expected<options, options_exit> parse_options(int argc, const char* const* argv);

}  // namespace osprey::bench::load
