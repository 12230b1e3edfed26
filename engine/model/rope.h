// Rotary position embeddings, both flavours:
//  - ChatGLM and GLM-4: interleaved pairs (x[2i], x[2i+1]) on the first half of each head;
//    angles in fp32 (ChatGLM3) or in the model dtype (ChatGLM2's remote code).
//  - LLaMA/Qwen2: "rotate half" pairs (j, j+hd/2) over the whole head, angles in fp32,
//    optional linear / llama3 frequency scaling.
//  - ChatGLM-6B: 2-D, rotate-half within each half of the head, the first half by the position,
//    the second by the block position (positions [B, 2, T], model/prefix_lm.h).
#pragma once

#include <ATen/ATen.h>

#include "model/model_config.h"

namespace tb {

class Rope {
public:
    Rope() = default;
    Rope(const ModelConfig& config, at::ScalarType dtype, at::Device device);

    // cos/sin for `positions` [B, T] (int64; ChatGLM-6B: [B, 2, T]), shaped to broadcast over [B, T, heads, ...].
    std::pair<at::Tensor, at::Tensor> tables(const at::Tensor& positions) const;
    // x [B, T, heads, hd] → rotated x, same shape and dtype.
    at::Tensor apply(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) const;
    // ChatGLM's interleaved pairs on the first rotary_dim() dims; else rotate-half over the head.
    bool interleaved() const { return interleaved_; }
    bool two_d() const { return two_d_; }
    int64_t rotary_dim() const { return rotary_dim_; }

private:
    bool interleaved_ = false;
    bool two_d_ = false;
    bool angles_in_model_dtype_ = false;
    int64_t rotary_dim_ = 0;
    at::ScalarType dtype_ = at::kFloat;
    at::Tensor inv_freq_;  // [rotary_dim/2], fp32 (or model dtype for ChatGLM2)
    double position_scale_ = 1.0;
};

}  // namespace tb
