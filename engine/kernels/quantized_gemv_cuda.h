// The CUDA side of kernels/quantized_gemv.h (quantized_gemv_cuda.cu): raw pointers, no torch.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/rms_norm_cuda.h"  // DType

namespace tb::kernels {

// A launch takes up to kRowsPerLaunch rows of x (each row's slice sits in registers, which spill
// beyond four), 8 in the tensor-core NF4 kernel (fp16/bf16, rows of whole 64-blocks); more rows,
// up to kMaxGemvRows, take several launches. Beyond that, dequantization and a GEMM are faster.
constexpr int64_t kRowsPerLaunch = 4, kMaxGemvRows = 16;

struct QuantizedGemvArgs {
    const void* x;          // [m, in] in dtype, 16-byte aligned
    int64_t m, in, out;     // 1 ≤ m ≤ kMaxGemvRows; in % 32 == 0
    void* y;                // [m, out] in dtype
    bool accumulate = false;  // y += x · Wᵀ (the sum rounded once)
    const void* bias = nullptr;  // [out] in dtype, added before the one rounding
    DType dtype;
    // NF4 (blocks of 64): packed [(out·in)/2] (element 2i in the high nibble), 16-byte aligned;
    // absmax [blocks] fp32, or qabsmax [blocks] + absmax2 [blocks/256] + offset (double quantization)
    const uint8_t* packed = nullptr;
    const float* absmax = nullptr;
    const uint8_t* qabsmax = nullptr;
    const float* absmax2 = nullptr;
    float offset = 0;
    float code[16];
    float map[256];
    // int8 (LLM.int8 rows): cb [out, in], 16-byte aligned, scb [out] row absmax
    const int8_t* cb = nullptr;
    const float* scb = nullptr;
    cudaStream_t stream;
};

cudaError_t nf4_gemv(const QuantizedGemvArgs& args);
cudaError_t int8_gemv(const QuantizedGemvArgs& args);

}  // namespace tb::kernels
