#pragma once

namespace osprey::engine {

// The chat template used when a model has none of its own (many base and
// test models): system text first, then "User:" and "Assistant:" turns, and
// an open "Assistant:" turn for the model to complete. Documented in README.
// The newlines live inside string literals: Jinja's "{%-" trims the
// template's own whitespace, and would eat them otherwise.
inline constexpr const char* fallback_template =
    "{%- for message in messages -%}"
    "{%- if message.role == 'system' -%}"
    "{{ message.content + '\\n\\n' }}"
    "{%- elif message.role == 'user' -%}"
    "{{ 'User: ' + message.content + '\\n' }}"
    "{%- elif message.role == 'assistant' -%}"
    "{{ 'Assistant: ' + message.content + '\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ 'Assistant:' }}{%- endif -%}";

}  // namespace osprey::engine
