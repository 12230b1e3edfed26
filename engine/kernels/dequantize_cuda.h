// The CUDA side of kernels/dequantize.h (dequantize_cuda.cu): raw pointers, no torch headers.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/rms_norm_cuda.h"  // DType

namespace tb::kernels {

struct Nf4DequantArgs {
    const uint8_t* packed;    // [(n + 1) / 2], element 2i in the high nibble of byte i
    const float* absmax;      // [blocks] fp32 scales, or null with double quantization:
    const uint8_t* qabsmax;   //   [blocks] dynamic-map codes of (absmax - offset)
    const float* absmax2;     //   [ceil(blocks / 256)]
    float offset;
    int64_t n, blocksize;
    float code[16];           // the NF4 code book
    float map[256];           // the signed dynamic map (double quantization)
    void* out;                // [n] in dtype
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
