// y = x · Wᵀ for a few rows of x (decode) with W in NF4 or int8, the dequantization in registers:
// a block takes a group of R output rows at a time (grid-stride over the groups, so its tables are
// built once); its threads stride over the row in 16-byte chunks of W (32 NF4 or 16 int8 values,
// one NF4 block scale per chunk), multiply by the matching slice of x (loaded once for the R rows),
// accumulate in fp32 and reduce across the block. The weight is the only large stream, read once.
// NF4 values come from a table in shared memory with one copy per lane (entry × 32 + lane: every
// lane reads its own bank, so the lookups never conflict): for fp16/bf16 a byte → its two codes as
// a half2 (the codes rounded to fp16, ≤ 2⁻¹¹ relative), for fp32 a nibble → its fp32 code.
#include "kernels/quantized_gemv_cuda.h"

#include <algorithm>
#include <type_traits>

#include "kernels/cuda_math.cuh"

namespace tb::kernels {
namespace {

constexpr int kMaxThreads = 256, kMaxWarps = kMaxThreads / 32;

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

// acc[m][r] summed over the block, scaled per row (int8) and stored; the block may go on.
template <typename T, int M, int R>
__device__ __forceinline__ void reduce_and_store(float (&acc)[M][R], const QuantizedGemvArgs& a, int64_t row0,
                                                 const float* row_scale, float (*partial)[M * R]) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
#pragma unroll
    for (int m = 0; m < M; ++m)
#pragma unroll
        for (int r = 0; r < R; ++r) {
            float v = acc[m][r];
#pragma unroll
            for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
            if (lane == 0) partial[warp][m * R + r] = v;
        }
    __syncthreads();
    if (threadIdx.x < M * R) {
        const int m = threadIdx.x / R, r = threadIdx.x % R;
        float s = 0;
        for (int w = 0; w < warps; ++w) s += partial[w][threadIdx.x];
        const int64_t row = row0 + r;
        if (row < a.out) {
            if (row_scale) s = __fmul_rn(s, __fmul_rn(a.scb[row], 1.0f / 127.0f));
            static_cast<T*>(a.y)[m * a.out + row] = from_float<T>(s);
        }
    }
    __syncthreads();  // partial is reused by the next group
}

template <typename T>
struct Nf4Table {
    static constexpr bool kHalf = !std::is_same_v<T, float>;
    // fp16/bf16: byte → half2 of its two codes; fp32: nibble → code
    using Entry = std::conditional_t<kHalf, __half2, float>;
    static constexpr int kEntries = kHalf ? 256 : 16;
};

template <typename T, int M, int R>
__global__ void __launch_bounds__(kMaxThreads) nf4_gemv_kernel(QuantizedGemvArgs a) {
    using Table = Nf4Table<T>;
    __shared__ typename Table::Entry table[Table::kEntries][32];
    __shared__ float map[256];
    __shared__ float partial[kMaxWarps][M * R];
    const int lane = threadIdx.x % 32;
    for (int i = threadIdx.x; i < Table::kEntries * 32; i += blockDim.x) {
        const int e = i / 32;
        if constexpr (Table::kHalf)
            table[e][i % 32] = __floats2half2_rn(a.code[e >> 4], a.code[e & 15]);
        else
            table[e][i % 32] = a.code[e];
    }
    for (int i = threadIdx.x; i < 256; i += blockDim.x) map[i] = a.map[i];
    __syncthreads();
    const int64_t chunks = a.in / 32, groups = (a.out + R - 1) / R;
    for (int64_t g = blockIdx.x; g < groups; g += gridDim.x) {
        const int64_t row0 = g * R;
        float acc[M][R] = {};
        for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x) {
            XChunk<T, 32> x[M];
#pragma unroll
            for (int m = 0; m < M; ++m) x[m].load(static_cast<const T*>(a.x) + m * a.in + c * 32);
            uint4 raw[R];
            float scale[R];   // the plain scales, or with double quantization:
            uint8_t code8[R];  // the 8-bit code of the scale and
            float scale2[R];   // its block's second-level scale, combined when the row is done
#pragma unroll
            for (int r = 0; r < R; ++r) {  // every row's loads first: R requests in flight
                const int64_t row = row0 + r < a.out ? row0 + r : a.out - 1;  // past the end: the last row again, unused
                const int64_t first = row * a.in + c * 32;  // element index: one 64-block per chunk
                raw[r] = __ldg(reinterpret_cast<const uint4*>(a.packed + first / 2));
                const int64_t block = first / 64;
                if (a.absmax) {
                    scale[r] = __ldg(a.absmax + block);
                } else {
                    code8[r] = __ldg(a.qabsmax + block);
                    scale2[r] = __ldg(a.absmax2 + block / 256);
                }
            }
#pragma unroll
            for (int r = 0; r < R; ++r) {
                const uint8_t* b = reinterpret_cast<const uint8_t*>(&raw[r]);
                float s[M] = {};
#pragma unroll
                for (int i = 0; i < 16; ++i) {
                    float w0, w1;
                    if constexpr (Table::kHalf) {
                        const float2 w = __half22float2(table[b[i]][lane]);
                        w0 = w.x;
                        w1 = w.y;
                    } else {
                        w0 = table[b[i] >> 4][lane];
                        w1 = table[b[i] & 15][lane];
                    }
#pragma unroll
                    for (int m = 0; m < M; ++m) {
                        s[m] = fmaf(w0, x[m][2 * i], s[m]);
                        s[m] = fmaf(w1, x[m][2 * i + 1], s[m]);
                    }
                }
                const float sc = a.absmax ? scale[r] : __fadd_rn(__fmul_rn(map[code8[r]], scale2[r]), a.offset);
#pragma unroll
                for (int m = 0; m < M; ++m) acc[m][r] = fmaf(s[m], sc, acc[m][r]);
            }
        }
        reduce_and_store<T, M, R>(acc, a, row0, nullptr, partial);
    }
}

template <typename T, int M, int R>
__global__ void __launch_bounds__(kMaxThreads) int8_gemv_kernel(QuantizedGemvArgs a) {
    __shared__ float partial[kMaxWarps][M * R];
    const int64_t chunks = a.in / 16, groups = (a.out + R - 1) / R;
    for (int64_t g = blockIdx.x; g < groups; g += gridDim.x) {
        const int64_t row0 = g * R;
        float acc[M][R] = {};
        for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x) {
            XChunk<T, 16> x[M];
#pragma unroll
            for (int m = 0; m < M; ++m) x[m].load(static_cast<const T*>(a.x) + m * a.in + c * 16);
            int4 raw[R];
#pragma unroll
            for (int r = 0; r < R; ++r) {
                const int64_t row = row0 + r < a.out ? row0 + r : a.out - 1;
                raw[r] = __ldg(reinterpret_cast<const int4*>(a.cb + row * a.in + c * 16));
            }
#pragma unroll
            for (int r = 0; r < R; ++r) {
                const int8_t* w = reinterpret_cast<const int8_t*>(&raw[r]);
#pragma unroll
                for (int m = 0; m < M; ++m) {
                    float s = acc[m][r];
#pragma unroll
                    for (int i = 0; i < 16; ++i) s = fmaf(static_cast<float>(w[i]), x[m][i], s);
                    acc[m][r] = s;
                }
            }
        }
        reduce_and_store<T, M, R>(acc, a, row0, a.scb, partial);
    }
}

// As many threads as a row has chunks (a multiple of 32, at most 256): none idle on short rows;
// blocks enough to fill the card, each striding over the row groups.
unsigned threads_for(int64_t chunks) { return static_cast<unsigned>(std::min<int64_t>(kMaxThreads, (chunks + 31) / 32 * 32)); }
unsigned blocks_for(int64_t groups) {
    static const int sms = [] {
        int device = 0, n = 0;
        cudaGetDevice(&device);
        cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device);
        return n > 0 ? n : 80;
    }();
    return static_cast<unsigned>(std::min<int64_t>(groups, static_cast<int64_t>(sms) * 8));
}

template <typename T, int M, bool Nf4>
cudaError_t launch(const QuantizedGemvArgs& a) {
    // rows per group: NF4's lookups want 8 rows of loads in flight for one or two rows of x (decode
    // 245.5 → 283.9 tokens/s, H200, ChatGLM2-6B shape, runs of 2026-11-26); for int8, 8 cost resident
    // blocks (312.4 with 4 → 293.5 with 8), so 4
    constexpr int R = Nf4 && M <= 2 ? 8 : 4;
    const int64_t groups = (a.out + R - 1) / R;
    if constexpr (Nf4)
        nf4_gemv_kernel<T, M, R><<<blocks_for(groups), threads_for(a.in / 32), 0, a.stream>>>(a);
    else
        int8_gemv_kernel<T, M, R><<<blocks_for(groups), threads_for(a.in / 16), 0, a.stream>>>(a);
    return cudaGetLastError();
}

template <typename T, bool Nf4>
cudaError_t by_rows(const QuantizedGemvArgs& a) {
    if (a.m > kRowsPerLaunch) {  // groups of kRowsPerLaunch rows, each reading the weight once
        for (int64_t r = 0; r < a.m; r += kRowsPerLaunch) {
            QuantizedGemvArgs part = a;
            part.m = std::min<int64_t>(kRowsPerLaunch, a.m - r);
            part.x = static_cast<const T*>(a.x) + r * a.in;
            part.y = static_cast<T*>(a.y) + r * a.out;
            if (const cudaError_t e = by_rows<T, Nf4>(part); e != cudaSuccess) return e;
        }
        return cudaSuccess;
    }
    switch (a.m) {
        case 1: return launch<T, 1, Nf4>(a);
        case 2: return launch<T, 2, Nf4>(a);
        case 3: return launch<T, 3, Nf4>(a);
        case 4: return launch<T, 4, Nf4>(a);
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
