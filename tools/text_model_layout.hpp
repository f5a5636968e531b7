#pragma once

// What each text architecture writes besides the tokenizer: its hyperparameter keys and the list
// of tensors llama.cpp's loader for that architecture requires, as that loader names them.

#include <cstdint>
#include <vector>

#include <gguf.h>

#include "gguf_weights.hpp"
#include "test_model.hpp"

namespace osprey::tools {

// The shape written for the options' architecture and scale.
const test_model_shape& shape_of(const test_model_options& options);

// Sets general.* and the architecture's own keys (`llama.*` or `gemma3.*`). The bench scale is
// llama's keys at the bench shape; the caller has refused it for gemma3.
void set_text_hparams(gguf_context* model, const test_model_options& options, uint32_t n_vocab);

// Sets the architecture's chat template, if it has one. Call after the tokenizer is copied, so
// that a template the vocab file carries does not replace it.
void set_chat_template(gguf_context* model, const test_model_options& options);

// Every tensor the architecture's loader requires, in the order it asks for them. At bench scale,
// the llama model's tensors at the bench shape, drawn as a trained model is initialised (normal,
// standard deviation 0.02; norms exactly 1) and with matrices stored as options.bench_type.
std::vector<tensor_spec> list_text_tensors(const test_model_options& options, int64_t n_vocab);

}  // namespace osprey::tools
