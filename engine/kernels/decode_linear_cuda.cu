// Linear layers for the few rows of a decode step, where reading the weight is all the work.
//
// The weight is the 16-row side of an mma.sync m16n8k16 product and the (up to 8) input rows the
// 8-column side, so every weight element is read once from memory for all the rows, with no
// conversions or FMAs on the CUDA cores. A block owns 16 weight rows (16 gate and 16 up rows for
// SwiGLU); its 8 warps split the reduction dimension, and each thread streams 16-byte pieces of two
// rows (read once: no L1 allocation, 256-byte L2 prefetch), several in flight. The reduction does
// not depend on the order of k, so the fragments are loaded in whatever order makes each thread's
// piece contiguous: thread (gid, tig) holds elements tig*8 … tig*8+7 of each 32-element step, words
// 0-1 feeding the step's first mma and 2-3 its second, for weight rows gid and gid+8 (A) and input
// row gid (B). The warps' partial sums meet in shared memory in a fixed order; the epilogue adds
// the bias and the residual and rounds once, or applies SwiGLU with ATen's roundings. A row's result
// does not depend on how many rows share the launch, so batched decode equals one row at a time.
#include "kernels/decode_linear_cuda.h"

#include "kernels/cuda_math.cuh"

namespace tb::kernels {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kTileRows = 16;  // weight rows per block (per tile)
constexpr int kStep = 32;      // reduction elements per warp step: two mma k16
constexpr int kUnroll = 4;     // steps whose loads are in flight together

// A weight piece read once: not kept in L1, with a 256-byte L2 prefetch.
__device__ __forceinline__ uint4 load_streaming(const void* p) {
    uint4 v;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm("ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {%0, %1, %2, %3}, [%4];"
        : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
        : "l"(p));
#else
    v = __ldg(static_cast<const uint4*>(p));
#endif
    return v;
}

// Tiles = 1: out = x W^T (+ bias, + residual); tiles = 2: out = silu(x W^T) * (x Up^T).
template <typename T, int Tiles>
__global__ void __launch_bounds__(kThreads) decode_linear_kernel(DecodeLinearArgs a) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, gid = lane / 4, tig = lane % 4;
    const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kTileRows;
    // Rows past the weight's end (the last block) and input rows past `rows` read a valid row
    // instead: their products land in outputs that are never written, and no load needs a branch.
    const int64_t ra = min(row0 + gid, a.n - 1) * a.k, rb = min(row0 + gid + 8, a.n - 1) * a.k;
    const T* w[2] = {static_cast<const T*>(a.weight), static_cast<const T*>(Tiles == 2 ? a.up : a.weight)};
    const T* x = static_cast<const T*>(a.x) + min(static_cast<int64_t>(gid), a.rows - 1) * a.k + tig * 8;

    const int64_t steps = (a.k + kStep - 1) / kStep, full_steps = a.k / kStep;
    const int64_t per_warp = (steps + kWarps - 1) / kWarps;
    const int64_t s_begin = warp * per_warp, s_end = min(s_begin + per_warp, steps);

    float acc[Tiles][4];
#pragma unroll
    for (int t = 0; t < Tiles; ++t) acc[t][0] = acc[t][1] = acc[t][2] = acc[t][3] = 0.f;
    auto mma_step = [&](const uint4 (&wa)[Tiles], const uint4 (&wb)[Tiles], const uint4& xv) {
#pragma unroll
        for (int t = 0; t < Tiles; ++t) {
            const uint32_t lo[4] = {wa[t].x, wb[t].x, wa[t].y, wb[t].y};
            const uint32_t hi[4] = {wa[t].z, wb[t].z, wa[t].w, wb[t].w};
            mma16816<T>(acc[t], lo, xv.x, xv.y);
            mma16816<T>(acc[t], hi, xv.z, xv.w);
        }
    };

    int64_t s = s_begin;
    // whole steps, kUnroll at a time: every load issued before the first product
    for (; s + kUnroll <= min(s_end, full_steps); s += kUnroll) {
        uint4 wa[kUnroll][Tiles], wb[kUnroll][Tiles], xv[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int64_t k = (s + u) * kStep + tig * 8;
#pragma unroll
            for (int t = 0; t < Tiles; ++t) {
                wa[u][t] = load_streaming(w[t] + ra + k);
                wb[u][t] = load_streaming(w[t] + rb + k);
            }
            xv[u] = __ldg(reinterpret_cast<const uint4*>(x + (s + u) * kStep));
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) mma_step(wa[u], wb[u], xv[u]);
    }
    // the rest one step at a time; a last partial step (k % 32 != 0) reads zeros past k
    for (; s < s_end; ++s) {
        const int64_t k = s * kStep + tig * 8;
        const bool in = k < a.k;
        const uint4 zero = make_uint4(0, 0, 0, 0);
        uint4 wa[Tiles], wb[Tiles];
#pragma unroll
        for (int t = 0; t < Tiles; ++t) {
            wa[t] = in ? load_streaming(w[t] + ra + k) : zero;
            wb[t] = in ? load_streaming(w[t] + rb + k) : zero;
        }
        mma_step(wa, wb, in ? __ldg(reinterpret_cast<const uint4*>(x + s * kStep)) : zero);
    }

    // C fragment: acc[t][0..1] = (weight row gid, input rows 2tig, 2tig+1), acc[t][2..3] = row gid+8
    __shared__ float part[kWarps][Tiles][kTileRows][8];
#pragma unroll
    for (int t = 0; t < Tiles; ++t) {
        part[warp][t][gid][2 * tig] = acc[t][0];
        part[warp][t][gid][2 * tig + 1] = acc[t][1];
        part[warp][t][gid + 8][2 * tig] = acc[t][2];
        part[warp][t][gid + 8][2 * tig + 1] = acc[t][3];
    }
    __syncthreads();
    if (threadIdx.x >= kTileRows * 8) return;
    const int r = threadIdx.x / 8, m = threadIdx.x % 8;
    const int64_t row = row0 + r;
    if (row >= a.n || m >= a.rows) return;
    float v[Tiles];
#pragma unroll
    for (int t = 0; t < Tiles; ++t) {
        v[t] = 0.f;
#pragma unroll
        for (int i = 0; i < kWarps; ++i) v[t] += part[i][t][r][m];
    }
    T* out = static_cast<T*>(a.out) + m * a.n + row;
    if constexpr (Tiles == 2) {
        *out = silu_times<T>(from_float<T>(v[0]), from_float<T>(v[1]));
    } else {
        if (a.bias) v[0] += to_float(static_cast<const T*>(a.bias)[row]);
        if (a.residual) v[0] += to_float(static_cast<const T*>(a.residual)[m * a.n + row]);
        *out = from_float<T>(v[0]);
    }
}

template <typename T>
cudaError_t launch(const DecodeLinearArgs& a) {
    const auto blocks = static_cast<unsigned>((a.n + kTileRows - 1) / kTileRows);
    if (a.up)
        decode_linear_kernel<T, 2><<<blocks, kThreads, 0, a.stream>>>(a);
    else
        decode_linear_kernel<T, 1><<<blocks, kThreads, 0, a.stream>>>(a);
    return cudaGetLastError();
}

}  // namespace

bool decode_linear_supported() {
    static const bool sm80 = [] {
        int device = 0, major = 0;
        cudaGetDevice(&device);
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
        return major >= 8;
    }();
    return sm80;
}

cudaError_t decode_linear_forward(const DecodeLinearArgs& a) {
    if (a.rows < 1 || a.rows > kDecodeLinearMaxRows || a.k % 8 != 0 || (a.up && a.bias) || !decode_linear_supported())
        return cudaErrorInvalidValue;
    if (a.n == 0) return cudaSuccess;
    switch (a.dtype) {
        case DType::F16: return launch<__half>(a);
        case DType::BF16: return launch<__nv_bfloat16>(a);
        default: return cudaErrorInvalidValue;
    }
}

}  // namespace tb::kernels
