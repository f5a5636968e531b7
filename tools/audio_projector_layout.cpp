#include "audio_projector_layout.hpp"

#include <string>

namespace osprey::tools {
namespace {

// Whisper's convolutions are 3 wide; the first keeps the frame rate, the second halves it.
constexpr int64_t conv_kernel_size = 3;

// The encoder block mtmd builds for whisper: layer norms with shifts, biased projections except
// for the keys (mtmd asserts that k has no bias), and a biased GELU feed-forward.
void add_encoder_block(std::vector<tensor_spec>& specs, const audio_projector_shape& shape,
                       uint32_t block) {
    const std::string blk = "a.blk." + std::to_string(block) + ".";
    const int64_t n_embd = shape.n_embd;
    const int64_t n_ff = shape.n_ff;

    specs.push_back(norm_spec(blk + "ln1.weight", n_embd));
    specs.push_back(offset_spec(blk + "ln1.bias", n_embd));
    specs.push_back(matrix_spec(blk + "attn_q.weight", n_embd, n_embd));
    specs.push_back(offset_spec(blk + "attn_q.bias", n_embd));
    specs.push_back(matrix_spec(blk + "attn_k.weight", n_embd, n_embd));
    specs.push_back(matrix_spec(blk + "attn_v.weight", n_embd, n_embd));
    specs.push_back(offset_spec(blk + "attn_v.bias", n_embd));
    specs.push_back(matrix_spec(blk + "attn_out.weight", n_embd, n_embd));
    specs.push_back(offset_spec(blk + "attn_out.bias", n_embd));

    specs.push_back(norm_spec(blk + "ln2.weight", n_embd));
    specs.push_back(offset_spec(blk + "ln2.bias", n_embd));
    specs.push_back(matrix_spec(blk + "ffn_up.weight", n_embd, n_ff));
    specs.push_back(offset_spec(blk + "ffn_up.bias", n_ff));
    specs.push_back(matrix_spec(blk + "ffn_down.weight", n_ff, n_embd));
    specs.push_back(offset_spec(blk + "ffn_down.bias", n_embd));
}

// The first matrix feeds a SwiGLU, which halves its output, so it is twice n_proj_hidden tall.
void add_projection(std::vector<tensor_spec>& specs, const audio_projector_shape& shape,
                    uint32_t n_embd_text) {
    const int64_t n_stacked = int64_t{shape.n_embd} * shape.stack_factor;
    const int64_t n_hidden = shape.n_proj_hidden;

    specs.push_back(norm_spec("mm.a.norm_pre.weight", n_stacked));
    specs.push_back(matrix_spec("mm.a.mlp.1.weight", n_stacked, 2 * n_hidden));
    specs.push_back(norm_spec("mm.a.norm_mid.weight", n_hidden));
    specs.push_back(matrix_spec("mm.a.mlp.2.weight", n_hidden, n_embd_text));
}

}  // namespace

void set_audio_projector_hparams(gguf_context* projector, uint32_t n_embd_text) {
    const audio_projector_shape& shape = test_audio_projector_shape;

    gguf_set_val_str(projector, "general.architecture", "clip");
    gguf_set_val_str(projector, "general.name", test_audio_projector_name);
    gguf_set_val_str(projector, "clip.projector_type", audio_projector_type);
    gguf_set_val_bool(projector, "clip.has_vision_encoder", false);
    gguf_set_val_bool(projector, "clip.has_audio_encoder", true);

    gguf_set_val_u32(projector, "clip.audio.embedding_length", shape.n_embd);
    gguf_set_val_u32(projector, "clip.audio.feed_forward_length", shape.n_ff);
    gguf_set_val_u32(projector, "clip.audio.block_count", shape.n_layer);
    gguf_set_val_u32(projector, "clip.audio.attention.head_count", shape.n_head);
    gguf_set_val_f32(projector, "clip.audio.attention.layer_norm_epsilon", shape.layer_norm_eps);
    gguf_set_val_u32(projector, "clip.audio.num_mel_bins", shape.n_mel_bins);
    gguf_set_val_u32(projector, "clip.audio.projector.stack_factor", shape.stack_factor);
    gguf_set_val_u32(projector, "clip.audio.projection_dim", n_embd_text);
}

// The convolution biases are [1, n_embd], not [n_embd]: mtmd adds them to the convolution's
// [frames, n_embd] output, which only broadcasts along the frames.
std::vector<tensor_spec> list_audio_projector_tensors(uint32_t n_embd_text) {
    const audio_projector_shape& shape = test_audio_projector_shape;
    const int64_t n_embd = shape.n_embd;

    std::vector<tensor_spec> specs = {
        conv1d_spec("a.conv1d.1.weight", conv_kernel_size, shape.n_mel_bins, n_embd),
        offset_spec("a.conv1d.1.bias", 1, n_embd),
        conv1d_spec("a.conv1d.2.weight", conv_kernel_size, n_embd, n_embd),
        offset_spec("a.conv1d.2.bias", 1, n_embd),
        offset_spec("a.position_embd.weight", n_embd, shape.n_pos),
    };
    for (uint32_t block = 0; block < shape.n_layer; ++block) {
        add_encoder_block(specs, shape, block);
    }
    specs.push_back(norm_spec("a.post_ln.weight", n_embd));
    specs.push_back(offset_spec("a.post_ln.bias", n_embd));
    add_projection(specs, shape, n_embd_text);
    return specs;
}

}  // namespace osprey::tools
