// A client's output schema, as the fuzz input: whatever check_output_schema
// accepts must convert to a grammar through llama.cpp's converter without a
// crash, an unbounded allocation or a stall (libFuzzer's -rss_limit_mb and
// -timeout catch the last two), and come out small enough to compile fast.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "api/json_schema_check.hpp"
#include "engine/grammar.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const auto schema = nlohmann::json::parse(data, data + size, nullptr, false);
    if (schema.is_discarded() || !osprey::api::check_output_schema(schema, "schema")) {
        return 0;
    }
    const osprey::core::output_format format{osprey::core::output_kind::json_schema, schema.dump(),
                                             "schema", "response_format"};
    const auto grammar = osprey::engine::schema_grammar(format);
    if (grammar) {
        OSPREY_FUZZ_CHECK(grammar->size() < (std::size_t{4} << 20));
    } else {
        OSPREY_FUZZ_CHECK(grammar.error().param == "schema");
    }
    return 0;
}
