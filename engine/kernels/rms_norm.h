// RMSNorm: the ATen reference and the dispatch to the CUDA kernel (rms_norm_cuda.cu) beside it.
// The kernel serves inference (no autograd); anything that needs gradients takes the reference.
#pragma once

#include <ATen/core/Tensor.h>

namespace tb::kernels {

// y = weight * (x * rsqrt(mean(x², -1) + eps)), in fp32 and rounded to x's dtype: once at the end
// when round_once (ChatGLM), else also after normalising (LLaMA/Qwen2, as transformers does).
at::Tensor rms_norm_reference(const at::Tensor& x, const at::Tensor& weight, double eps, bool round_once);

// The CUDA kernel when it can serve (CUDA tensors, fp32/fp16/bf16, no gradient wanted, built
// with CUDA), else the reference.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps, bool round_once);

// True when this build has Tunebench's CUDA kernels (nvcc was found).
bool built_with_cuda_kernels();

}  // namespace tb::kernels
