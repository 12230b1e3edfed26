// y = x · Wᵀ for a few rows of x (decode) with W in NF4 or int8, the dequantization in registers:
// each block owns kRows output rows; its threads stride over the row in 16-byte chunks of W (32
// NF4 or 16 int8 values, one NF4 block scale per chunk), multiply by the matching slice of x
// (loaded once for the kRows rows), accumulate in fp32, and reduce across the block. The weight
// is read once, coalesced; it is the only large stream, so the kernel runs at the memory's speed.
#include "kernels/quantized_gemv_cuda.h"

#include "kernels/cuda_math.cuh"

namespace tb::kernels {
namespace {

constexpr int kThreads = 256, kWarps = kThreads / 32, kRows = 4;

// A chunk of x kept as loaded (16-byte words, converted when used: fewer registers than floats).
template <typename T, int N>
struct XChunk {
    static constexpr int kWords = N * sizeof(T) / 16;
    uint4 w[kWords];
    __device__ __forceinline__ void load(const T* p) {
#pragma unroll
        for (int i = 0; i < kWords; ++i) w[i] = __ldg(reinterpret_cast<const uint4*>(p) + i);
    }
    __device__ __forceinline__ float operator[](int i) const { return to_float<T>(reinterpret_cast<const T*>(w)[i]); }
};

// acc[m][r] summed over the block; thread 0.. writes y
template <typename T, int M>
__device__ __forceinline__ void reduce_and_store(float (&acc)[M][kRows], const QuantizedGemvArgs& a, int64_t row0,
                                                 const float* row_scale) {
    __shared__ float partial[kWarps][M * kRows];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
#pragma unroll
    for (int m = 0; m < M; ++m)
#pragma unroll
        for (int r = 0; r < kRows; ++r) {
            float v = acc[m][r];
#pragma unroll
            for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
            if (lane == 0) partial[warp][m * kRows + r] = v;
        }
    __syncthreads();
    if (threadIdx.x < M * kRows) {
        const int m = threadIdx.x / kRows, r = threadIdx.x % kRows;
        float s = 0;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) s += partial[w][threadIdx.x];
        const int64_t row = row0 + r;
        if (row < a.out) {
            if (row_scale) s *= row_scale[r];
            static_cast<T*>(a.y)[m * a.out + row] = from_float<T>(s);
        }
    }
}

template <typename T, int M>
__global__ void __launch_bounds__(kThreads) nf4_gemv_kernel(QuantizedGemvArgs a) {
    __shared__ float2 pair[256];  // a packed byte → its two values (high nibble first)
    __shared__ float map[256];
    pair[threadIdx.x] = make_float2(a.code[threadIdx.x >> 4], a.code[threadIdx.x & 15]);
    map[threadIdx.x] = a.map[threadIdx.x];
    __syncthreads();
    const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kRows;
    const int64_t chunks = a.in / 32;
    float acc[M][kRows] = {};
    for (int64_t c = threadIdx.x; c < chunks; c += kThreads) {
        XChunk<T, 32> x[M];
#pragma unroll
        for (int m = 0; m < M; ++m) x[m].load(static_cast<const T*>(a.x) + m * a.in + c * 32);
#pragma unroll
        for (int r = 0; r < kRows; ++r) {
            const int64_t row = row0 + r;
            if (row >= a.out) break;
            const int64_t first = row * a.in + c * 32;  // element index: one 64-block per chunk
            const uint4 raw = __ldg(reinterpret_cast<const uint4*>(a.packed + first / 2));
            const int64_t block = first / 64;
            const float scale = a.absmax ? __ldg(a.absmax + block)
                                         : __fadd_rn(__fmul_rn(map[__ldg(a.qabsmax + block)], __ldg(a.absmax2 + block / 256)), a.offset);
            const uint8_t* b = reinterpret_cast<const uint8_t*>(&raw);
#pragma unroll
            for (int m = 0; m < M; ++m) {
                float s = 0;
#pragma unroll
                for (int i = 0; i < 16; ++i) {
                    const float2 w = pair[b[i]];
                    s = fmaf(w.x, x[m][2 * i], s);
                    s = fmaf(w.y, x[m][2 * i + 1], s);
                }
                acc[m][r] = fmaf(s, scale, acc[m][r]);
            }
        }
    }
    reduce_and_store<T, M>(acc, a, row0, nullptr);
}

template <typename T, int M>
__global__ void __launch_bounds__(kThreads) int8_gemv_kernel(QuantizedGemvArgs a) {
    const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kRows;
    const int64_t chunks = a.in / 16;
    float acc[M][kRows] = {};
    for (int64_t c = threadIdx.x; c < chunks; c += kThreads) {
        XChunk<T, 16> x[M];
#pragma unroll
        for (int m = 0; m < M; ++m) x[m].load(static_cast<const T*>(a.x) + m * a.in + c * 16);
#pragma unroll
        for (int r = 0; r < kRows; ++r) {
            const int64_t row = row0 + r;
            if (row >= a.out) break;
            const int4 raw = __ldg(reinterpret_cast<const int4*>(a.cb + row * a.in + c * 16));
            const int8_t* w = reinterpret_cast<const int8_t*>(&raw);
#pragma unroll
            for (int m = 0; m < M; ++m) {
                float s = acc[m][r];
#pragma unroll
                for (int i = 0; i < 16; ++i) s = fmaf(static_cast<float>(w[i]), x[m][i], s);
                acc[m][r] = s;
            }
        }
    }
    float scale[kRows];
#pragma unroll
    for (int r = 0; r < kRows; ++r) scale[r] = row0 + r < a.out ? __fmul_rn(a.scb[row0 + r], 1.0f / 127.0f) : 0.0f;
    reduce_and_store<T, M>(acc, a, row0, scale);
}


template <typename T, int M>
cudaError_t launch_nf4(const QuantizedGemvArgs& a) {
    nf4_gemv_kernel<T, M><<<static_cast<unsigned>((a.out + kRows - 1) / kRows), kThreads, 0, a.stream>>>(a);
    return cudaGetLastError();
}
template <typename T, int M>
cudaError_t launch_int8(const QuantizedGemvArgs& a) {
    int8_gemv_kernel<T, M><<<static_cast<unsigned>((a.out + kRows - 1) / kRows), kThreads, 0, a.stream>>>(a);
    return cudaGetLastError();
}

template <typename T, bool Nf4>
cudaError_t by_rows(const QuantizedGemvArgs& a) {
    switch (a.m) {
#define TB_CASE(M) \
    case M: return Nf4 ? launch_nf4<T, M>(a) : launch_int8<T, M>(a);
        TB_CASE(1) TB_CASE(2) TB_CASE(3) TB_CASE(4)
#undef TB_CASE
    }
    return cudaErrorInvalidValue;
}

template <bool Nf4>
cudaError_t by_dtype(const QuantizedGemvArgs& a) {
    if (a.out == 0 || a.m == 0) return cudaSuccess;
    switch (a.dtype) {
        case DType::F32: return by_rows<float, Nf4>(a);
        case DType::F16: return by_rows<__half, Nf4>(a);
        case DType::BF16: return by_rows<__nv_bfloat16, Nf4>(a);
    }
    return cudaErrorInvalidValue;
}

}  // namespace

cudaError_t nf4_gemv(const QuantizedGemvArgs& a) { return by_dtype<true>(a); }
cudaError_t int8_gemv(const QuantizedGemvArgs& a) { return by_dtype<false>(a); }

}  // namespace tb::kernels
