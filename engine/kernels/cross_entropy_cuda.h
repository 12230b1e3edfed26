// The CUDA side of linear_cross_entropy's per-chunk work (cross_entropy_cuda.cu): raw pointers, no
// torch headers. Logits stay in the model dtype and are read through fp32, as the reference's cast
// to fp32 reads them; nothing [rows, vocab] is written in fp32.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/rms_norm_cuda.h"  // DType

namespace tb::kernels {

struct CrossEntropyRowsArgs {
    const void* logits;     // [rows, vocab], contiguous, dtype
    const int64_t* target;  // [rows]: the class of each row (an ignored row points at any class)
    const float* valid;     // [rows]: 1 for a counted row, 0 for an ignored one
    float* lse;             // [rows]: written by the forward, read by the backward
    float* loss;            // [rows]: (lse - logits[target]) * valid, written by the forward
    const float* grad;      // the summed loss's gradient (one float on the device), backward
    void* grad_logits;      // [rows, vocab], dtype, backward: (softmax - one_hot) * valid * grad
    int64_t rows, vocab;
    DType dtype;
    cudaStream_t stream;
};

cudaError_t cross_entropy_rows_forward(const CrossEntropyRowsArgs& args);
cudaError_t cross_entropy_rows_backward(const CrossEntropyRowsArgs& args);

}  // namespace tb::kernels
