// The CUDA side of kernels/dequantize.h (dequantize_cuda.cu): raw pointers, no torch headers.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/nf4_blocks.h"
#include "kernels/rms_norm_cuda.h"  // DType

namespace tb::kernels {

struct Nf4DequantArgs {
    Nf4Blocks nf4;
    int64_t n, blocksize;
    void* out;  // [n] in dtype
    DType dtype;
    cudaStream_t stream;
};

struct Int8DequantArgs {
    const int8_t* cb;  // [rows, cols]
    const float* scb;  // [rows] row absmax
    int64_t rows, cols;
    void* out;         // [rows, cols] in dtype
    DType dtype;
    cudaStream_t stream;
};

cudaError_t nf4_dequantize(const Nf4DequantArgs& args);
cudaError_t int8_dequantize(const Int8DequantArgs& args);

}  // namespace tb::kernels
