// The CUDA side of rms_norm (rms_norm_cuda.cu): raw pointers, no torch headers, so the .cu file
// compiles without LibTorch and this header is cheap to include.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace tb::kernels {

enum class DType { F32, F16, BF16 };

struct RmsNormArgs {
    const void* x;       // [rows, cols], contiguous, dtype
    const void* weight;  // [cols], contiguous, weight_dtype
    void* y;             // [rows, cols], contiguous, dtype
    int64_t rows, cols;
    float eps;
    bool round_once;
    DType dtype, weight_dtype;
    cudaStream_t stream;
};

cudaError_t rms_norm_forward(const RmsNormArgs& args);

// The gradient of rms_norm_forward's y (training): grad_x in x's dtype, and per-block fp32
// partial sums of grad_weight when grad_weight_partial is set (the caller sums its rows).
struct RmsNormBackwardArgs {
    const void* x;               // [rows, cols], contiguous, dtype
    const void* weight;          // [cols], weight_dtype
    const void* grad_y;          // [rows, cols], contiguous, dtype
    void* grad_x;                // [rows, cols], contiguous, dtype
    float* grad_weight_partial;  // [rms_norm_backward_blocks(...), cols] or null
    int64_t rows, cols;
    float eps;
    bool round_once;
    DType dtype, weight_dtype;
    cudaStream_t stream;
};

// Blocks (rows of grad_weight_partial) the backward kernel runs for this shape; 0 when the shape
// does not fit it (a row must fit one 16-byte load per thread, a whole number of warps, ≤ 1024).
int rms_norm_backward_blocks(int64_t rows, int64_t cols, DType dtype);

cudaError_t rms_norm_backward(const RmsNormBackwardArgs& args);

}  // namespace tb::kernels
