#include "api/json_schema_check.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace osprey::api {
namespace {

using json = nlohmann::json;

core::expected<void> check(const std::string& schema) {
    return check_output_schema(json::parse(schema), "schema");
}

TEST(CheckOutputSchema, TakesTheSchemasStructuredOutputUses) {
    for (const char* ok : {
             R"({})",
             R"({"type": "object", "properties": {"name": {"type": "string", "maxLength": 20},
                 "age": {"type": "integer", "minimum": 0, "maximum": 120}},
                 "required": ["name", "age"], "additionalProperties": false})",
             R"({"type": "array", "items": {"enum": ["a", "b", 3, null]},
                 "minItems": 1, "maxItems": 4})",
             R"({"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}],
                 "description": "when", "title": "date"})",
             R"({"type": ["number", "null"], "exclusiveMinimum": 0, "exclusiveMaximum": 1})",
             R"({"type": "array", "prefixItems": [{"const": 1}, {"type": "boolean"}]})",
             R"({"type": "integer", "exclusiveMinimum": 4, "exclusiveMaximum": 6})",
         }) {
        auto r = check(ok);
        EXPECT_TRUE(r) << ok << ": " << r.error().public_message;
    }
}

struct refusal {
    const char* schema;
    const char* param;
};

// The schemas that took llama.cpp's converter or grammar engine down before
// any check existed, and the keywords osprey cannot honour, each named.
TEST(CheckOutputSchema, RefusesWhatWouldCrashOrStallTheGrammar) {
    const refusal cases[] = {
        // A crash: an integer range with no integer in it.
        {R"({"type": "integer", "minimum": 5, "maximum": 3})", "schema"},
        {R"({"type": "integer", "exclusiveMinimum": 4, "exclusiveMaximum": 5})", "schema"},
        // Unbounded memory: a length range with no length in it, or a huge one.
        {R"({"type": "string", "minLength": 3, "maxLength": 2})", "schema.minLength"},
        {R"({"type": "string", "maxLength": 100000})", "schema.maxLength"},
        {R"({"type": "array", "minItems": 1000})", "schema.minItems"},
        {R"({"type": "integer", "maximum": 1e300})", "schema"},
        // Keywords that would need a regex or a reference walk.
        {R"({"type": "string", "pattern": "^(a+)+$"})", "schema.pattern"},
        {R"({"$ref": "#"})", "schema.$ref"},
        {R"({"allOf": [{}]})", "schema.allOf"},
        {R"({"type": "string", "format": "email"})", "schema.format"},
        {R"({"type": "objekt"})", "schema.type"},
        {R"({"properties": {"a": {}}, "required": ["b"]})", "schema.required"},
        {R"({"properties": {"a": 3}})", "schema.properties.a"},
        {R"({"anyOf": []})", "schema.anyOf"},
        {R"({"enum": []})", "schema.enum"},
        {R"([])", "schema"},
    };
    for (const auto& c : cases) {
        auto r = check(c.schema);
        ASSERT_FALSE(r) << c.schema;
        EXPECT_EQ(r.error().param, c.param) << c.schema << ": " << r.error().public_message;
    }
}

// Minutes of CPU in the converter: an object of hundreds of optional
// properties, or schemas nested past any use.
TEST(CheckOutputSchema, RefusesSchemasPastItsBounds) {
    json wide = {{"type", "object"}, {"properties", json::object()}};
    for (int i = 0; i <= 64; ++i) {
        wide["properties"]["p" + std::to_string(i)] = {{"type", "string"}};
    }
    EXPECT_EQ(check_output_schema(wide, "s").error().param, "s.properties");

    json deep = {{"type", "string"}};
    for (int i = 0; i < 12; ++i) {
        deep = {{"type", "array"}, {"items", deep}};
    }
    EXPECT_FALSE(check_output_schema(deep, "s"));

    json many = {{"anyOf", json::array()}};
    for (int i = 0; i < 16; ++i) {
        json branch = {{"anyOf", json::array()}};
        for (int j = 0; j < 16; ++j) {
            branch["anyOf"].push_back({{"const", j}});
        }
        many["anyOf"].push_back(branch);
    }
    EXPECT_FALSE(check_output_schema(many, "s"));  // 273 subschemas
}

}  // namespace
}  // namespace osprey::api
