// The CUDA side of greedy_step (greedy_step_cuda.cu): raw pointers, no torch headers.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/rms_norm_cuda.h"  // DType

namespace tb::kernels {

struct GreedyStepArgs {
    const void* logits;        // row b at logits + b * logits_stride: [vocab]
    int64_t logits_stride;     // elements
    const int64_t* stop_ids;   // [stops]
    const int64_t* active;     // [batch]: 1 = the row decodes
    int64_t* ids;              // [batch]: the next step's input
    int64_t* positions;        // [batch]: advanced by active
    int64_t* out;              // [batch, 3]: token, stop flag, non-finite flag
    int64_t batch, vocab, stops;
    DType dtype;
    cudaStream_t stream;
};

cudaError_t greedy_step_forward(const GreedyStepArgs& args);

}  // namespace tb::kernels
