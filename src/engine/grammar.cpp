#include "engine/grammar.hpp"

#include <exception>

#include <json-schema-to-grammar.h>
#include <llama.h>

namespace osprey::engine {

core::expected<std::string> output_grammar(const model& m, const core::output_format& format) {
    if (format.kind == core::output_kind::text) {
        return std::string();
    }
    core::error e =
        core::make_error(core::error_code::internal, "The server could not set up JSON output.");
    std::string grammar;
    try {
        grammar = json_schema_to_grammar(common_json::parse(R"({"type": "object"})"));
    } catch (const std::exception& ex) {
        e.internal_detail = std::string("json_schema_to_grammar: ") + ex.what();
        return core::unexpected(e);
    }
    // The same compile the sampler does per choice, so that a failure shows
    // before the response starts.
    llama_sampler* compiled = llama_sampler_init_grammar(m.vocab(), grammar.c_str(), "root");
    if (compiled == nullptr) {
        e.internal_detail = "the JSON object grammar did not compile";
        return core::unexpected(e);
    }
    llama_sampler_free(compiled);
    return grammar;
}

}  // namespace osprey::engine
