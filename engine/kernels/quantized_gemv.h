// y = x · dequantize(W)ᵀ for the few rows of a decode step, with W in NF4 or int8
// (model/quantization.h): the ATen reference (dequantize, then a GEMM) and the dispatch to the CUDA
// kernel (quantized_gemv_cuda.cu) that dequantizes in registers and reads W once, at memory speed.
#pragma once

#include <ATen/core/Tensor.h>

namespace tb {
struct QuantizedWeight;
}

namespace tb::kernels {

// x [..., in] in q.compute_dtype → [..., out].
at::Tensor quantized_gemv_reference(const at::Tensor& x, const QuantizedWeight& q, const at::Tensor& bias = {});

// Whether the kernel takes this call: CUDA, fp32/fp16/bf16, at most 16 rows (int8; NF4 in fp16/bf16
// with rows of whole 64-blocks) or 4 (other NF4), 16-byte aligned, rows a multiple of 32 values.
// TUNEBENCH_QUANTIZED_GEMV=0 turns it off.
bool quantized_gemv_applies(const at::Tensor& x, const QuantizedWeight& q);
// bias [out] (optional) is added in the kernel's epilogue where it takes the call.
at::Tensor quantized_gemv(const at::Tensor& x, const QuantizedWeight& q, const at::Tensor& bias = {});
// residual += x · dequantize(W)ᵀ, in the kernel's epilogue where it applies (one rounding of the
// sum instead of two: the decode step's o and down projections save an add kernel each).
at::Tensor& quantized_gemv_accumulate(at::Tensor& residual, const at::Tensor& x, const QuantizedWeight& q);

}  // namespace tb::kernels
