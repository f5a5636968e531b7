// osprey-make-test-model: writes a tiny random-weight text model (llama or gemma3) with a real
// tokenizer, and optionally an audio projector for it, so tests that need a model, or multimodal
// input, can run end to end on a small CI machine. See test_model.hpp.

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "test_model.hpp"

namespace {

constexpr const char* program_name = "osprey-make-test-model";

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

}  // namespace

int main(int argc, char** argv) {
    osprey::tools::test_model_options options;
    options.vocab_path = osprey::tools::default_vocab_path();
    std::string arch = "llama";

    CLI::App app(
        "Writes a tiny GGUF text model with random weights and a real tokenizer, for tests; "
        "optionally also a random audio projector (mmproj) that pairs with it.",
        program_name);
    app.add_option("--out", options.out_path, "where to write the text model")->required();
    app.add_option("--arch", arch,
                   "llama: no chat template; gemma3: gemma chat template, n_embd 128 to pair with "
                   "mmproj-tinygemma3.gguf")
        ->check(CLI::IsMember({"llama", "gemma3"}))
        ->capture_default_str();
    app.add_option("--audio-projector-out", options.audio_projector_path,
                   "also write an audio-only mmproj (ultravox, 16 kHz) for this run's text model");
    app.add_option("--vocab", options.vocab_path, "GGUF whose tokenizer.* keys are copied")
        ->capture_default_str();
    // CLI11 reads "-3" into an unsigned seed by wrapping it round; refuse it instead.
    app.add_option("--seed", options.seed, "seed for the random weights")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& help) {
        return app.exit(help);
    } catch (const CLI::ParseError& error) {
        return fail(error.what());
    }

    options.arch = parse_arch(arch);
    const auto written = osprey::tools::write_test_model(options);
    if (!written) {
        return fail(written.error());
    }
    return 0;
}
