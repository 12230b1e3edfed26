// SwiGLU, silu(gate) * up: the ATen reference and the dispatch to the CUDA kernel (swiglu_cuda.cu)
// beside it. One launch instead of two, and no [rows, I] temporary for silu(gate).
#pragma once

#include <ATen/core/Tensor.h>

namespace tb::kernels {

// gate, up [..., I] (views with a unit last stride, e.g. the two halves of ChatGLM's gate_up
// output) → silu(gate) * up [..., I] in their dtype, each op rounded as ATen's two ops round.
at::Tensor swiglu_reference(const at::Tensor& gate, const at::Tensor& up);

// The CUDA kernel when it can serve (CUDA, fp32/fp16/bf16, same dtype and shape, no gradient
// wanted), else the reference.
at::Tensor swiglu(const at::Tensor& gate, const at::Tensor& up);

}  // namespace tb::kernels
