// Linear layers for the few rows of a decode step (decode_linear_cuda.cu): the ATen references and
// the dispatch. The kernel serves CUDA fp16/bf16 inputs of at most 8 rows with a plain contiguous
// weight and no gradient wanted; anything else takes the ATen path, which is the reference.
#pragma once

#include <ATen/core/Tensor.h>

namespace tb::kernels {

// y = x W^T + bias: at::linear.
at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);
// residual += x W^T in place, rounded once (addmm_ with beta = 1); residual contiguous, x's dtype.
void linear_accumulate(at::Tensor& residual, const at::Tensor& x, const at::Tensor& weight);
// silu(x Wg^T) * (x Wu^T), each product rounded to x's dtype as ATen's ops round them: the SwiGLU
// MLP's first half in one kernel. Only where swiglu_linear_serves(): elsewhere the caller keeps
// its one gate_up GEMM, which is faster for many rows than two.
bool swiglu_linear_serves(const at::Tensor& x, const at::Tensor& gate_weight, const at::Tensor& up_weight);
at::Tensor swiglu_linear(const at::Tensor& x, const at::Tensor& gate_weight, const at::Tensor& up_weight);
at::Tensor swiglu_linear_reference(const at::Tensor& x, const at::Tensor& gate_weight, const at::Tensor& up_weight);

}  // namespace tb::kernels
