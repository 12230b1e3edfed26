// RMSNorm: the ATen reference and the dispatch to the CUDA kernel (rms_norm_cuda.cu) beside it.
// With gradients wanted on CUDA, one autograd function runs the forward kernel and a backward
// kernel (rms_norm_backward_reference is the formula it follows); on the CPU the reference's own
// autograd runs, as before.
#pragma once

#include <ATen/core/Tensor.h>

#include <utility>

namespace tb::kernels {

// y = weight * (x * rsqrt(mean(x², -1) + eps)), in fp32 and rounded to x's dtype: once at the end
// when round_once (ChatGLM), else also after normalising (LLaMA/Qwen2, as transformers does).
at::Tensor rms_norm_reference(const at::Tensor& x, const at::Tensor& weight, double eps, bool round_once);

// The gradients of rms_norm_reference's output for grad_y, written out (x's dtype for grad_x, the
// weight's for grad_weight): what autograd computes through the reference, in fp32, and what the
// CUDA backward kernel does. grad_weight only when with_weight_grad.
std::pair<at::Tensor, at::Tensor> rms_norm_backward_reference(const at::Tensor& x, const at::Tensor& weight,
                                                              const at::Tensor& grad_y, double eps, bool round_once,
                                                              bool with_weight_grad);

// The CUDA kernels when they can serve (CUDA tensors, fp32/fp16/bf16, built with CUDA; with
// gradients, a row that fits the backward kernel), else the reference.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps, bool round_once);

// True when this build has Tunebench's CUDA kernels (nvcc was found).
bool built_with_cuda_kernels();

}  // namespace tb::kernels
