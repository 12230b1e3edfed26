// Linear layers for the few rows of a decode step (decode_linear_cuda.cu): the dispatch. The kernel
// serves CUDA fp16/bf16 inputs of at most 8 rows with a contiguous weight and no gradient wanted;
// anything else takes ATen's path (at::linear, addmm_), which is also the reference.
#pragma once

#include <ATen/core/Tensor.h>

namespace tb::kernels {

// y = x W^T + bias (at::linear).
at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);
// residual += x W^T in place, rounded once (addmm_ with beta = 1); residual contiguous, x's dtype.
void linear_accumulate(at::Tensor& residual, const at::Tensor& x, const at::Tensor& weight);

// Benchmarks only (tests/gpu): false sends every call to ATen's path, to time both in one run.
void set_decode_linear_enabled(bool enabled);

}  // namespace tb::kernels
