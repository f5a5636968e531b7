#include "engine/grammar.hpp"

#include <exception>

#include <json-schema-to-grammar.h>
#include <llama.h>

namespace osprey::engine {

namespace {

// The schema whose grammar holds the answer: any object for json_object, the
// client's own (checked by the API adapter) for json_schema.
std::string schema_of(const core::output_format& format) {
    return format.kind == core::output_kind::json_object ? R"({"type": "object"})" : format.schema;
}

core::error schema_error(const core::output_format& format, const std::string& detail) {
    core::error e;
    if (format.kind == core::output_kind::json_schema) {
        e = core::make_error(core::error_code::invalid_value,
                             "This schema cannot be turned into a grammar for the answer.",
                             format.schema_param);
    } else {
        e = core::make_error(core::error_code::internal,
                             "The server could not set up JSON output.");
    }
    e.internal_detail = detail;
    return e;
}

}  // namespace

core::expected<std::string> schema_grammar(const core::output_format& format) {
    if (format.kind == core::output_kind::text) {
        return std::string();
    }
    try {
        return json_schema_to_grammar(common_json::parse(schema_of(format)));
    } catch (const std::exception& ex) {
        return core::unexpected(
            schema_error(format, std::string("json_schema_to_grammar: ") + ex.what()));
    }
}

core::expected<std::string> output_grammar(const model& m, const core::output_format& format) {
    auto converted = schema_grammar(format);
    if (!converted || converted->empty()) {
        return converted;
    }
    const std::string& grammar = *converted;
    // The same compile the sampler does per choice, so that a failure shows
    // before the response starts.
    llama_sampler* compiled = llama_sampler_init_grammar(m.vocab(), grammar.c_str(), "root");
    if (compiled == nullptr) {
        return core::unexpected(schema_error(format, "the grammar did not compile"));
    }
    llama_sampler_free(compiled);
    return grammar;
}

}  // namespace osprey::engine
