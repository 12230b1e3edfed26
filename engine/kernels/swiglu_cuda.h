// The CUDA side of swiglu (swiglu_cuda.cu): raw pointers, no torch headers.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/rms_norm_cuda.h"  // DType

namespace tb::kernels {

struct SwigluArgs {
    const void* gate;  // row r at gate + r * gate_stride: [cols]
    const void* up;    // row r at up + r * up_stride: [cols]
    void* out;         // [rows, cols] contiguous
    int64_t rows, cols, gate_stride, up_stride;  // strides in elements
    DType dtype;
    cudaStream_t stream;
};

cudaError_t swiglu_forward(const SwigluArgs& args);

}  // namespace tb::kernels
