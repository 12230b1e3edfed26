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
at::Tensor quantized_gemv_reference(const at::Tensor& x, const QuantizedWeight& q);

// Whether the kernel takes this call: CUDA, fp32/fp16/bf16, at most 16 rows (int8) or 4 (NF4), 16-byte aligned and
// whole-chunk rows (NF4 in blocks of 64). TUNEBENCH_QUANTIZED_GEMV=0 turns it off.
bool quantized_gemv_applies(const at::Tensor& x, const QuantizedWeight& q);
at::Tensor quantized_gemv(const at::Tensor& x, const QuantizedWeight& q);

}  // namespace tb::kernels
