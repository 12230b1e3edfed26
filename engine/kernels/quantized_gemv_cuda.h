// The CUDA side of kernels/quantized_gemv.h (quantized_gemv_cuda.cu): raw pointers, no torch.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/nf4_blocks.h"
#include "kernels/rms_norm_cuda.h"  // DType

namespace tb::kernels {

// A launch takes up to kRowsPerLaunch rows of x (each row's slice sits in registers, which spill
// beyond four), 8 in the tensor-core NF4 kernel (fp16/bf16, rows of whole 64-blocks); more rows,
// up to kMaxGemvRows, take several launches. Beyond that, dequantization and a GEMM are faster.
constexpr int64_t kRowsPerLaunch = 4, kMaxGemvRows = 16;

// Whether NF4 takes the tensor-core kernel: fp16/bf16 and rows of whole 64-blocks (up to 8 rows of x
// per launch); else the scalar kernel. The dispatch and quantized_gemv_applies both ask this.
inline bool nf4_uses_tensor_cores(DType dtype, int64_t in) { return dtype != DType::F32 && in % 64 == 0; }

struct QuantizedGemvArgs {
    const void* x;          // [m, in] in dtype, 16-byte aligned
    int64_t m, in, out;     // 1 ≤ m ≤ kMaxGemvRows; in % 32 == 0
    void* y;                // [m, out] in dtype
    bool accumulate = false;  // y += x · Wᵀ (the sum rounded once)
    const void* bias = nullptr;  // [out] in dtype, added before the one rounding
    DType dtype;
    Nf4Blocks nf4;  // NF4 in blocks of 64, packed 16-byte aligned
    // int8 (LLM.int8 rows): cb [out, in], 16-byte aligned, scb [out] row absmax
    const int8_t* cb = nullptr;
    const float* scb = nullptr;
    cudaStream_t stream;
};

cudaError_t nf4_gemv(const QuantizedGemvArgs& args);
cudaError_t int8_gemv(const QuantizedGemvArgs& args);

}  // namespace tb::kernels
