// The CUDA side of rope_train (rope_train_cuda.cu): raw pointers, no torch headers.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/rms_norm_cuda.h"  // DType

namespace tb::kernels {

// RoPE over [batch, tokens, heads, head_dim] (any strides; head_dim contiguous), forward or its
// backward (the gradient of the input for the output's gradient in src), into dst.
struct RopeRowsArgs {
    const void* src;
    void* dst;
    int64_t src_b, src_t, src_h, dst_b, dst_t, dst_h;  // strides in elements
    const void* cos;  // [batch * tokens, table], contiguous, dtype
    const void* sin;
    int64_t table;
    int64_t batch, tokens, heads, head_dim, rotary_dim;
    bool interleaved, backward;
    DType dtype;
    cudaStream_t stream;
};

cudaError_t rope_rows(const RopeRowsArgs& args);

}  // namespace tb::kernels
