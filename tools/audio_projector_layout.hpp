#pragma once

// The audio projector's keys and tensors, as llama.cpp's mtmd (tools/mtmd/clip.cpp) reads an
// ultravox projector: a whisper-style encoder (two 1-D convolutions, then pre-norm transformer
// blocks with learned positions), whose output frames are stacked stack_factor at a time and
// projected to the text model's embedding width by an RMS-normed SwiGLU layer and a linear one.

#include <cstdint>
#include <vector>

#include <gguf.h>

#include "gguf_weights.hpp"
#include "test_model.hpp"

namespace osprey::tools {

inline constexpr const char* audio_projector_type = "ultravox";

// Sets general.* and clip.* keys for an audio-only projector whose output is n_embd_text wide.
void set_audio_projector_hparams(gguf_context* projector, uint32_t n_embd_text);

// Every tensor mtmd requires of an ultravox projector, plus the optional post-encoder norm.
std::vector<tensor_spec> list_audio_projector_tensors(uint32_t n_embd_text);

}  // namespace osprey::tools
