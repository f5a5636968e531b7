#include "text_model_layout.hpp"

#include <string>
#include <utility>

namespace osprey::tools {
namespace {

// Gemma's turn format, written for this generator. Content is passed through untouched (no trim)
// because osprey finds each message's content in the rendered text by an exact match. System
// messages have no turn of their own in gemma: they are held and prefixed to the next turn.
constexpr const char* gemma3_template =
    "{{- bos_token -}}\n"
    "{%- set ns = namespace(held='') -%}\n"
    "{%- for message in messages -%}\n"
    "{%- if message['role'] == 'system' -%}\n"
    "{%- set ns.held = ns.held + message['content'] + '\\n\\n' -%}\n"
    "{%- else -%}\n"
    "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}\n"
    "{{- '<start_of_turn>' + role + '\\n' + ns.held + message['content'] + '<end_of_turn>\\n' -}}\n"
    "{%- set ns.held = '' -%}\n"
    "{%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "{{- '<start_of_turn>model\\n' -}}\n"
    "{%- endif -%}\n";

// A ChatML-style turn format, written for this generator, that offers tools and sets reasoning
// apart: the tools are listed in the system turn as JSON, the model calls one by writing
// <tool_call>{"name": ..., "arguments": {...}}</tool_call>, and results come back in a user turn
// inside <tool_response>. An assistant turn's reasoning is rendered inside <think></think>.
// llama.cpp reads the tool-call and reasoning syntax off the template itself. Content is passed
// through untouched, as osprey's prompt layout needs.
constexpr const char* tools_template =
    "{%- set ns = namespace(system='') -%}\n"
    "{%- if messages and messages[0]['role'] == 'system' -%}"
    "{%- set ns.system = messages[0]['content'] -%}{%- endif -%}\n"
    "{%- if tools -%}\n"
    "{{- '<|im_start|>system\\n' -}}\n"
    "{%- if ns.system -%}{{- ns.system + '\\n\\n' -}}{%- endif -%}\n"
    "{{- 'You may call these tools:\\n<tools>\\n' -}}\n"
    "{%- for tool in tools -%}{{- tool | tojson + '\\n' -}}{%- endfor -%}\n"
    "{{- '</tools>\\nTo call one, write <tool_call>\\n{\"name\": <name>, \"arguments\": "
    "<arguments>}\\n</tool_call><|im_end|>\\n' -}}\n"
    "{%- elif ns.system -%}\n"
    "{{- '<|im_start|>system\\n' + ns.system + '<|im_end|>\\n' -}}\n"
    "{%- endif -%}\n"
    "{%- for message in messages -%}\n"
    "{%- if message['role'] == 'system' and loop.first -%}\n"
    "{%- elif message['role'] == 'assistant' -%}\n"
    "{{- '<|im_start|>assistant\\n' -}}\n"
    "{%- if message['reasoning_content'] -%}"
    "{{- '<think>\\n' + message['reasoning_content'] + '\\n</think>\\n' -}}{%- endif -%}\n"
    "{%- if message['content'] -%}{{- message['content'] -}}{%- endif -%}\n"
    "{%- for call in message['tool_calls'] or [] -%}\n"
    "{{- '<tool_call>\\n{\"name\": \"' + call['function']['name'] + '\", \"arguments\": ' + "
    "(call['function']['arguments'] | tojson) + '}\\n</tool_call>' -}}\n"
    "{%- endfor -%}\n"
    "{{- '<|im_end|>\\n' -}}\n"
    "{%- elif message['role'] == 'tool' -%}\n"
    "{{- '<|im_start|>user\\n<tool_response>\\n' + message['content'] + "
    "'\\n</tool_response><|im_end|>\\n' -}}\n"
    "{%- else -%}\n"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}\n"
    "{%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}\n";

// The bench model's weights have the standard deviation trained llama checkpoints start from.
constexpr float bench_weight_std = 0.02f;

// The head width both architectures use: llama.cpp derives it from n_embd / n_head when the file
// names none, and gemma3's loader reads it from key_length, which is written to match.
uint32_t head_width(const test_model_shape& shape) {
    return shape.n_embd / shape.n_head;
}

void add_llama_layer(std::vector<tensor_spec>& specs, const test_model_shape& shape,
                     uint32_t layer) {
    const std::string blk = "blk." + std::to_string(layer) + ".";
    const int64_t n_embd = shape.n_embd;
    const int64_t n_embd_kv = head_width(shape) * shape.n_head_kv;
    const int64_t n_ff = shape.n_ff;

    specs.push_back(norm_spec(blk + "attn_norm.weight", n_embd));
    specs.push_back(matrix_spec(blk + "attn_q.weight", n_embd, n_embd));
    specs.push_back(matrix_spec(blk + "attn_k.weight", n_embd, n_embd_kv));
    specs.push_back(matrix_spec(blk + "attn_v.weight", n_embd, n_embd_kv));
    specs.push_back(matrix_spec(blk + "attn_output.weight", n_embd, n_embd));

    specs.push_back(norm_spec(blk + "ffn_norm.weight", n_embd));
    specs.push_back(matrix_spec(blk + "ffn_gate.weight", n_embd, n_ff));
    specs.push_back(matrix_spec(blk + "ffn_down.weight", n_ff, n_embd));
    specs.push_back(matrix_spec(blk + "ffn_up.weight", n_embd, n_ff));
}

// The output matrix is written out rather than tied to the embeddings, as in most llama
// checkpoints.
std::vector<tensor_spec> list_llama_tensors(const test_model_shape& shape, int64_t n_vocab) {
    std::vector<tensor_spec> specs = {
        matrix_spec("token_embd.weight", shape.n_embd, n_vocab),
        norm_spec("output_norm.weight", shape.n_embd),
        matrix_spec("output.weight", shape.n_embd, n_vocab),
    };
    for (uint32_t layer = 0; layer < shape.n_layer; ++layer) {
        add_llama_layer(specs, shape, layer);
    }
    return specs;
}

ggml_type ggml_type_of(weight_type type) {
    switch (type) {
    case weight_type::q4_0: return GGML_TYPE_Q4_0;
    case weight_type::q8_0: return GGML_TYPE_Q8_0;
    case weight_type::f16: return GGML_TYPE_F16;
    }
    return GGML_TYPE_Q4_0;  // not reached; GCC wants a return after a switch on an enum
}

// Every llama tensor is a matrix or a norm's scale; a norm starts at exactly 1, as in training.
tensor_spec as_bench_tensor(tensor_spec spec, ggml_type matrix_type) {
    if (spec.n_dims == 1) {
        spec.centre = 1.0f;
        spec.spread = 0.0f;
        return spec;
    }
    spec.type = matrix_type;
    spec.centre = 0.0f;
    spec.spread = bench_weight_std;
    spec.draw = distribution::normal;
    return spec;
}

// The tiny llama model's tensors at the bench shape: only how they are drawn and stored differs.
std::vector<tensor_spec> list_bench_tensors(weight_type type, int64_t n_vocab) {
    std::vector<tensor_spec> specs = list_llama_tensors(test_model_bench_shape, n_vocab);
    for (auto& spec : specs) {
        spec = as_bench_tensor(std::move(spec), ggml_type_of(type));
    }
    return specs;
}

// Gemma3 adds RMS norms on each head's queries and keys, and after attention and the
// feed-forward, to the llama layer.
void add_gemma3_layer(std::vector<tensor_spec>& specs, const test_model_shape& shape,
                      uint32_t layer) {
    const std::string blk = "blk." + std::to_string(layer) + ".";
    const int64_t n_embd = shape.n_embd;
    const int64_t n_head_width = head_width(shape);
    const int64_t n_embd_q = n_head_width * shape.n_head;
    const int64_t n_embd_kv = n_head_width * shape.n_head_kv;
    const int64_t n_ff = shape.n_ff;

    specs.push_back(norm_spec(blk + "attn_norm.weight", n_embd));
    specs.push_back(matrix_spec(blk + "attn_q.weight", n_embd, n_embd_q));
    specs.push_back(matrix_spec(blk + "attn_k.weight", n_embd, n_embd_kv));
    specs.push_back(matrix_spec(blk + "attn_v.weight", n_embd, n_embd_kv));
    specs.push_back(matrix_spec(blk + "attn_output.weight", n_embd_q, n_embd));
    specs.push_back(norm_spec(blk + "post_attention_norm.weight", n_embd));
    specs.push_back(norm_spec(blk + "attn_k_norm.weight", n_head_width));
    specs.push_back(norm_spec(blk + "attn_q_norm.weight", n_head_width));

    specs.push_back(norm_spec(blk + "ffn_norm.weight", n_embd));
    specs.push_back(matrix_spec(blk + "ffn_gate.weight", n_embd, n_ff));
    specs.push_back(matrix_spec(blk + "ffn_up.weight", n_embd, n_ff));
    specs.push_back(matrix_spec(blk + "ffn_down.weight", n_ff, n_embd));
    specs.push_back(norm_spec(blk + "post_ffw_norm.weight", n_embd));
}

// No output.weight: the loader ties the output to the token embeddings when it is missing, as
// gemma3 checkpoints are.
std::vector<tensor_spec> list_gemma3_tensors(const test_model_shape& shape, int64_t n_vocab) {
    std::vector<tensor_spec> specs = {
        matrix_spec("token_embd.weight", shape.n_embd, n_vocab),
        norm_spec("output_norm.weight", shape.n_embd),
    };
    for (uint32_t layer = 0; layer < shape.n_layer; ++layer) {
        add_gemma3_layer(specs, shape, layer);
    }
    return specs;
}

// Keys both architectures share, under their own prefix.
void set_common_hparams(gguf_context* model, const std::string& arch, const test_model_shape& shape,
                        uint32_t n_vocab) {
    const auto key = [&](const char* name) {
        return arch + "." + name;
    };

    gguf_set_val_str(model, "general.architecture", arch.c_str());
    gguf_set_val_str(model, "general.name", test_model_name);

    gguf_set_val_u32(model, key("vocab_size").c_str(), n_vocab);
    gguf_set_val_u32(model, key("context_length").c_str(), shape.n_ctx_train);
    gguf_set_val_u32(model, key("embedding_length").c_str(), shape.n_embd);
    gguf_set_val_u32(model, key("block_count").c_str(), shape.n_layer);
    gguf_set_val_u32(model, key("feed_forward_length").c_str(), shape.n_ff);

    gguf_set_val_u32(model, key("attention.head_count").c_str(), shape.n_head);
    gguf_set_val_u32(model, key("attention.head_count_kv").c_str(), shape.n_head_kv);
    gguf_set_val_f32(model, key("attention.layer_norm_rms_epsilon").c_str(), shape.rms_norm_eps);
}

void set_llama_hparams(gguf_context* model, const test_model_shape& shape, uint32_t n_vocab) {
    set_common_hparams(model, "llama", shape, n_vocab);

    gguf_set_val_u32(model, "llama.rope.dimension_count", head_width(shape));
    gguf_set_val_f32(model, "llama.rope.freq_base", shape.rope_freq_base);
}

void set_gemma3_hparams(gguf_context* model, uint32_t n_vocab) {
    const test_model_shape& shape = test_model_gemma3_shape;
    set_common_hparams(model, "gemma3", shape, n_vocab);

    gguf_set_val_u32(model, "gemma3.attention.key_length", head_width(shape));
    gguf_set_val_u32(model, "gemma3.attention.value_length", head_width(shape));
    gguf_set_val_f32(model, "gemma3.rope.freq_base", shape.rope_freq_base);

    gguf_set_val_u32(model, "gemma3.attention.sliding_window", shape.n_swa);
    gguf_set_val_u32(model, "gemma3.attention.sliding_window_pattern", shape.swa_pattern);
    gguf_set_val_f32(model, "gemma3.rope.freq_base_swa", shape.rope_freq_base_swa);
}

}  // namespace

const char* gemma3_chat_template() {
    return gemma3_template;
}

const test_model_shape& shape_of(const test_model_options& options) {
    if (options.scale == test_model_scale::bench) {
        return test_model_bench_shape;
    }
    return options.arch == test_model_arch::gemma3 ? test_model_gemma3_shape
                                                   : test_model_default_shape;
}

void set_text_hparams(gguf_context* model, const test_model_options& options, uint32_t n_vocab) {
    if (options.arch == test_model_arch::gemma3) {
        set_gemma3_hparams(model, n_vocab);
    } else {
        set_llama_hparams(model, shape_of(options), n_vocab);
    }
}

void set_chat_template(gguf_context* model, const test_model_options& options) {
    if (options.tools_template) {
        gguf_set_val_str(model, "tokenizer.chat_template", tools_template);
    } else if (options.arch == test_model_arch::gemma3) {
        gguf_set_val_str(model, "tokenizer.chat_template", gemma3_chat_template());
    }
}

std::vector<tensor_spec> list_text_tensors(const test_model_options& options, int64_t n_vocab) {
    if (options.arch == test_model_arch::gemma3) {
        return list_gemma3_tensors(test_model_gemma3_shape, n_vocab);
    }
    if (options.scale == test_model_scale::bench) {
        return list_bench_tensors(options.bench_type, n_vocab);
    }
    return list_llama_tensors(test_model_default_shape, n_vocab);
}

}  // namespace osprey::tools
