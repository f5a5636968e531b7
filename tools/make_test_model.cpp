// osprey-make-test-model: writes a tiny random-weight text model (llama or gemma3) with a real
// tokenizer, and optionally an audio projector for it, so tests that need a model, or multimodal
// input, can run end to end on a small CI machine; or, with --shape bench, a llama model of a real
// model's shape for benchmarks. See test_model.hpp.

#include <cstdio>
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "test_model.hpp"

namespace {

using osprey::tools::test_model_scale;
using osprey::tools::weight_type;

constexpr const char* program_name = "osprey-make-test-model";

const std::map<std::string, test_model_scale> scale_names = {
    {"tiny", test_model_scale::tiny},
    {"bench", test_model_scale::bench},
};

const std::map<std::string, weight_type> type_names = {
    {"q4_0", weight_type::q4_0},
    {"q8_0", weight_type::q8_0},
    {"f16", weight_type::f16},
};

// Every failure, a bad argument included, is one line on stderr and exit status 1, so that a
// Makefile or test can tell failure from success without parsing CLI11's own exit codes.
int fail(const std::string& message) {
    std::fprintf(stderr, "%s: %s\n", program_name, message.c_str());
    return 1;
}

osprey::tools::test_model_arch parse_arch(const std::string& name) {
    return name == "gemma3" ? osprey::tools::test_model_arch::gemma3
                            : osprey::tools::test_model_arch::llama;
}

// The options only the bench model reads; CLI11 checks their values. Returns --type, which the
// caller refuses without --shape bench.
CLI::Option* add_bench_options(CLI::App& app, std::string& shape, std::string& type) {
    app.add_option("--shape", shape,
                   "tiny: the small models tests use; bench: a llama model of about 336 M "
                   "parameters (n_embd 1024, 24 layers), for benchmarks")
        ->check(CLI::IsMember(scale_names))
        ->capture_default_str();
    return app.add_option("--type", type, "how --shape bench stores its matrices")
        ->check(CLI::IsMember(type_names))
        ->capture_default_str();
}

// The bench model takes a while to write and use, so the tool says what it wrote.
void print_summary(const osprey::tools::test_model_options& options,
                   const osprey::tools::written_test_model& written, const std::string& type) {
    std::printf("wrote %s: %lld parameters, matrices %s, %.1f MB\n", options.out_path.c_str(),
                static_cast<long long>(written.n_parameters), type.c_str(),
                static_cast<double>(written.n_bytes) / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
    osprey::tools::test_model_options options;
    options.vocab_path = osprey::tools::default_vocab_path();
    std::string arch = "llama";
    std::string shape = "tiny";
    std::string type = "q4_0";

    CLI::App app(
        "Writes a tiny GGUF text model with random weights and a real tokenizer, for tests; "
        "optionally also a random audio projector (mmproj) that pairs with it. With --shape "
        "bench, writes a llama model of a real model's size instead, for benchmarks.",
        program_name);
    app.add_option("--out", options.out_path, "where to write the text model")->required();
    app.add_option("--arch", arch,
                   "llama: no chat template; gemma3: gemma chat template, n_embd 128 to pair with "
                   "mmproj-tinygemma3.gguf")
        ->check(CLI::IsMember({"llama", "gemma3"}))
        ->capture_default_str();
    app.add_flag("--tools-template", options.tools_template,
                 "a ChatML-style chat template that offers tools and sets reasoning apart");
    app.add_option("--audio-projector-out", options.audio_projector_path,
                   "also write an audio-only mmproj (ultravox, 16 kHz) for this run's text model");
    app.add_option("--vocab", options.vocab_path, "GGUF whose tokenizer.* keys are copied")
        ->capture_default_str();
    // CLI11 reads "-3" into an unsigned seed by wrapping it round; refuse it instead.
    app.add_option("--seed", options.seed, "seed for the random weights")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    const CLI::Option* type_option = add_bench_options(app, shape, type);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& help) {
        return app.exit(help);
    } catch (const CLI::ParseError& error) {
        return fail(error.what());
    }

    options.arch = parse_arch(arch);
    options.scale = scale_names.at(shape);
    options.bench_type = type_names.at(type);
    // The tiny models' Q8_0 is part of what tests rely on, so --type does not change it.
    if (type_option->count() > 0 && options.scale != test_model_scale::bench) {
        return fail("--type applies only to --shape bench");
    }

    const auto written = osprey::tools::write_test_model(options);
    if (!written) {
        return fail(written.error());
    }
    if (options.scale == test_model_scale::bench) {
        print_summary(options, *written, type);
    }
    return 0;
}
