#include "engine/grammar.hpp"

#include <exception>

#include <json-schema-to-grammar.h>
#include <llama.h>

#include "core/utf8.hpp"

namespace osprey::engine {

namespace {

// The converter's own words about the client's schema; long ones are cut.
constexpr size_t max_reason_bytes = 300;

core::unexpected unenforceable(const core::output_format& format, std::string reason) {
    if (reason.size() > max_reason_bytes) {
        reason = reason.substr(0, max_reason_bytes) + "...";
    }
    core::error e = core::make_error(core::error_code::invalid_value,
                                     "The JSON schema cannot be enforced: " + reason, format.param);
    e.internal_detail = reason;
    return core::unexpected(std::move(e));
}

}  // namespace

core::expected<std::string> output_grammar(const model& m, const core::output_format& format) {
    if (format.kind == core::output_kind::text) {
        return std::string();
    }
    const std::string schema =
        format.kind == core::output_kind::json_object ? R"({"type": "object"})" : format.schema;
    std::string grammar;
    try {
        grammar = json_schema_to_grammar(common_json::parse(schema));
    } catch (const std::exception& e) {
        return unenforceable(format, core::sanitize_utf8(e.what()));
    }
    // The same compile the sampler will do per choice: a grammar that fails
    // here is refused now rather than mid-request.
    llama_sampler* compiled = llama_sampler_init_grammar(m.vocab(), grammar.c_str(), "root");
    if (compiled == nullptr) {
        return unenforceable(format, "its grammar did not compile");
    }
    llama_sampler_free(compiled);
    return grammar;
}

}  // namespace osprey::engine
