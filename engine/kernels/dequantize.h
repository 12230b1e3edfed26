// NF4 / int8 weights back to the compute dtype: the ATen reference and the dispatch to the CUDA
// kernels (dequantize_cuda.cu) beside it. The reference is ~10 ATen ops with int64 and fp32
// temporaries several times the weight's size; the kernel is one launch, bit-equal to it.
#pragma once

#include <ATen/core/Tensor.h>

namespace tb {
struct QuantizedWeight;
}

namespace tb::kernels {

// [out, in] in q.compute_dtype, as bitsandbytes dequantizes (NF4 blocks, double quantization, int8 rows).
at::Tensor dequantize_reference(const QuantizedWeight& q);

// The CUDA kernel for weights on a GPU in fp32/fp16/bf16, else the reference.
at::Tensor dequantize(const QuantizedWeight& q);

struct Nf4Blocks;
// An NF4 weight's pointers and tables for the CUDA kernels (contiguous tensors on the device).
void nf4_blocks(const QuantizedWeight& q, Nf4Blocks* out);

}  // namespace tb::kernels
