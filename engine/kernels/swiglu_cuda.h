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

// The gradients of swiglu_forward's out for grad_out, with ATen's roundings (silu(gate) and the two
// products each rounded to T, silu's backward in fp32 rounded once).
struct SwigluBackwardArgs {
    const void* gate;      // row r at gate + r * gate_stride: [cols]
    const void* up;        // row r at up + r * up_stride: [cols]
    const void* grad_out;  // [rows, cols] contiguous
    void* grad_gate;       // row r at grad_gate + r * grad_gate_stride: [cols]
    void* grad_up;         // row r at grad_up + r * grad_up_stride: [cols]
    int64_t rows, cols, gate_stride, up_stride, grad_gate_stride, grad_up_stride;  // strides in elements
    DType dtype;
    cudaStream_t stream;
};

cudaError_t swiglu_backward(const SwigluBackwardArgs& args);

}  // namespace tb::kernels
