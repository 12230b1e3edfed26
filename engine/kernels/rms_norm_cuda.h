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

}  // namespace tb::kernels
