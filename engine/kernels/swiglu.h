// SwiGLU, silu(gate) * up: the ATen reference and the dispatch to the CUDA kernel (swiglu_cuda.cu)
// beside it. One launch instead of two, and no [rows, I] temporary for silu(gate).
#pragma once

#include <ATen/core/Tensor.h>

#include <utility>

namespace tb::kernels {

// gate, up [..., I] (views with a unit last stride, e.g. the two halves of ChatGLM's gate_up
// output) → silu(gate) * up [..., I] in their dtype, each op rounded as ATen's two ops round.
at::Tensor swiglu_reference(const at::Tensor& gate, const at::Tensor& up);

// The gradients of swiglu_reference's output for grad_out, written out with ATen's roundings:
// what autograd computes through the reference and what the CUDA backward kernel does.
std::pair<at::Tensor, at::Tensor> swiglu_backward_reference(const at::Tensor& gate, const at::Tensor& up,
                                                           const at::Tensor& grad_out);

// The CUDA kernels when they can serve (CUDA, fp32/fp16/bf16, same dtype and shape; with gradients
// wanted, one autograd node of a forward and a backward kernel), else the reference.
at::Tensor swiglu(const at::Tensor& gate, const at::Tensor& up);

// swiglu of the two halves of gate_up [..., 2I] (ChatGLM's dense_h_to_4h: the gate first). With
// gradients on CUDA, its backward writes gate_up's gradient in one piece (no zero-filled halves
// summed, as autograd does for two narrowed views).
at::Tensor swiglu_packed(const at::Tensor& gate_up);

}  // namespace tb::kernels
