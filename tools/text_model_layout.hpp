#pragma once

// What each text architecture writes besides the tokenizer: its hyperparameter keys and the list
// of tensors llama.cpp's loader for that architecture requires, as that loader names them.

#include <cstdint>
#include <vector>

#include <gguf.h>

#include "gguf_weights.hpp"
#include "test_model.hpp"

namespace osprey::tools {

// The shape written for an architecture.
const test_model_shape& shape_of(test_model_arch arch);

// Sets general.* and the architecture's own keys (`llama.*` or `gemma3.*`).
void set_text_hparams(gguf_context* model, test_model_arch arch, uint32_t n_vocab);

// Sets the architecture's chat template, if it has one. Call after the tokenizer is copied, so
// that a template the vocab file carries does not replace it.
void set_chat_template(gguf_context* model, test_model_arch arch);

// Every tensor the architecture's loader requires, in the order it asks for them.
std::vector<tensor_spec> list_text_tensors(test_model_arch arch, int64_t n_vocab);

}  // namespace osprey::tools
