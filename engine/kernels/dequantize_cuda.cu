// NF4 and int8 weights back to fp32/fp16/bf16 on the GPU, each value rounded exactly as the ATen
// reference (dequantize.cpp) rounds it on the GPU: scales in fp32 (map × absmax2, then + offset, no
// fused multiply-add), value × scale in fp32, one rounding to the output type. Each thread turns 8 packed
// bytes (16 values) into two 16-byte stores when the blocks allow it, else one value per thread.
#include "kernels/dequantize_cuda.h"

#include "kernels/cuda_device.h"
#include "kernels/cuda_math.cuh"

namespace tb::kernels {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float nf4_scale(const Nf4DequantArgs& a, const float* map, int64_t block) {
    if (a.nf4.absmax) return a.nf4.absmax[block];
    return __fadd_rn(__fmul_rn(map[a.nf4.qabsmax[block]], a.nf4.absmax2[block / 256]), a.nf4.offset);
}

// Vec: 16 values per thread (blocksize % 16 == 0 and n % 16 == 0 and 16-byte aligned output).
template <typename T, bool Vec>
__global__ void nf4_kernel(Nf4DequantArgs a) {
    __shared__ float code[16];
    __shared__ float map[256];
    for (int i = threadIdx.x; i < 256; i += blockDim.x) map[i] = a.nf4.map[i];
    if (threadIdx.x < 16) code[threadIdx.x] = a.nf4.code[threadIdx.x];
    __syncthreads();
    T* out = static_cast<T*>(a.out);
    if constexpr (Vec) {
        const int64_t first = (static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x) * 16;
        if (first >= a.n) return;
        const float scale = nf4_scale(a, map, first / a.blocksize);
        const uint2 bytes = *reinterpret_cast<const uint2*>(a.nf4.packed + first / 2);
        const uint8_t* b = reinterpret_cast<const uint8_t*>(&bytes);
        T v[16];
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            v[2 * i] = from_float<T>(__fmul_rn(code[b[i] >> 4], scale));
            v[2 * i + 1] = from_float<T>(__fmul_rn(code[b[i] & 15], scale));
        }
        constexpr int per_store = 16 / sizeof(T);
#pragma unroll
        for (int s = 0; s < 16 / per_store; ++s)
            *reinterpret_cast<uint4*>(out + first + s * per_store) = *reinterpret_cast<const uint4*>(v + s * per_store);
    } else {
        const int64_t e = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
        if (e >= a.n) return;
        const uint8_t byte = a.nf4.packed[e / 2];
        const int c = (e % 2 == 0) ? (byte >> 4) : (byte & 15);
        out[e] = from_float<T>(__fmul_rn(code[c], nf4_scale(a, map, e / a.blocksize)));
    }
}

template <typename T>
cudaError_t launch_nf4(const Nf4DequantArgs& a) {
    const bool vec = a.blocksize % 16 == 0 && a.n % 16 == 0 && aligned16(a.out) &&
                     reinterpret_cast<uintptr_t>(a.nf4.packed) % 8 == 0;
    const int64_t per = vec ? 16 : 1;
    const auto blocks = static_cast<unsigned>((a.n + kThreads * per - 1) / (kThreads * per));
    if (vec)
        nf4_kernel<T, true><<<blocks, kThreads, 0, a.stream>>>(a);
    else
        nf4_kernel<T, false><<<blocks, kThreads, 0, a.stream>>>(a);
    return cudaGetLastError();
}

// ATen's (cb.to(float) * (scb / 127).unsqueeze(1)).to(T): grid (ceil(cols / threads), rows).
// ATen's CUDA division by a scalar multiplies by its fp32 reciprocal, so this does too.
template <typename T>
__global__ void int8_kernel(Int8DequantArgs a) {
    const int64_t r = blockIdx.y, c = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
    if (c >= a.cols) return;
    const float scale = __fmul_rn(a.scb[r], 1.0f / 127.0f);
    static_cast<T*>(a.out)[r * a.cols + c] = from_float<T>(__fmul_rn(static_cast<float>(a.cb[r * a.cols + c]), scale));
}

template <typename T>
cudaError_t launch_int8(const Int8DequantArgs& a) {
    for (int64_t r0 = 0; r0 < a.rows; r0 += 65535) {  // grid.y holds at most 65535 rows
        Int8DequantArgs part = a;
        part.rows = std::min<int64_t>(65535, a.rows - r0);
        part.cb = a.cb + r0 * a.cols;
        part.scb = a.scb + r0;
        part.out = static_cast<T*>(a.out) + r0 * a.cols;
        dim3 grid(static_cast<unsigned>((a.cols + kThreads - 1) / kThreads), static_cast<unsigned>(part.rows));
        int8_kernel<T><<<grid, kThreads, 0, a.stream>>>(part);
        if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess) return e;
    }
    return cudaSuccess;
}

}  // namespace

cudaError_t nf4_dequantize(const Nf4DequantArgs& a) {
    if (a.n == 0) return cudaSuccess;
    switch (a.dtype) {
        case DType::F32: return launch_nf4<float>(a);
        case DType::F16: return launch_nf4<__half>(a);
        case DType::BF16: return launch_nf4<__nv_bfloat16>(a);
    }
    return cudaErrorInvalidValue;
}

cudaError_t int8_dequantize(const Int8DequantArgs& a) {
    if (a.rows == 0 || a.cols == 0) return cudaSuccess;
    switch (a.dtype) {
        case DType::F32: return launch_int8<float>(a);
        case DType::F16: return launch_int8<__half>(a);
        case DType::BF16: return launch_int8<__nv_bfloat16>(a);
    }
    return cudaErrorInvalidValue;
}

}  // namespace tb::kernels
