// The CUDA side of decode_linear (decode_linear_cuda.cu): raw pointers, no torch headers.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/rms_norm_cuda.h"  // DType

namespace tb::kernels {

// Rows a launch serves: the decode step's batch sizes up to this go through the kernel.
constexpr int64_t kDecodeLinearMaxRows = 8;

struct DecodeLinearArgs {
    const void* x;         // [rows, k] contiguous
    const void* weight;    // [n, k] contiguous: the weight, or the gate's when `up` is set
    const void* up;        // nullptr, or the up projection's [n, k]: out = silu(x W^T) * (x Up^T)
    const void* bias;      // [n] or nullptr (not with `up`)
    const void* residual;  // [rows, n] or nullptr: added before the one rounding; may be `out`
    void* out;             // [rows, n] contiguous
    int64_t rows, n, k;    // 1 <= rows <= kDecodeLinearMaxRows; k % 8 == 0; pointers 16-byte aligned
    DType dtype;           // F16 or BF16
    cudaStream_t stream;
};

// Tensor cores (mma.sync bf16/fp16): compute capability 8.0 or newer.
bool decode_linear_supported();
cudaError_t decode_linear_forward(const DecodeLinearArgs& args);

}  // namespace tb::kernels
