// Linear layers for the few rows of a decode step, where reading the weight is all the work.
//
// The weight is the 16-row side of an mma.sync m16n8k16 product and the (up to 8) input rows the
// 8-column side, so every weight element is read once from memory for all the rows, with no
// conversions or FMAs on the CUDA cores. A block owns 16 consecutive weight rows; its 8 warps split
// the reduction dimension, and each thread streams 16-byte pieces of two rows (read once: no L1
// allocation, 256-byte L2 prefetch), several in flight. The reduction does not depend on the order
// of k, so the fragments are loaded in whatever order makes each thread's piece contiguous: thread
// (gid, tig) holds elements tig*8 … tig*8+7 of each 32-element step, words 0-1 feeding the step's
// first mma and 2-3 its second, for weight rows gid and gid+8 (A) and input row gid (B). The warps'
// partial sums meet in shared memory in a fixed order; the epilogue adds the bias and the residual
// and rounds once. A row's result does not depend on how many rows share the launch, so batched
// decode equals one row at a time.
//
// Measured on an H100 (tests/gpu, 2026-11-26) and left out: a SwiGLU variant reading a gate row
// and an up row per tile (two weight regions per block) ran 30-60 % slower inside the decode step
// than cuBLAS + the SwiGLU kernel, though not in isolation; programmatic dependent launch with an
// L2 prefetch before waiting made the whole step 25 % slower (early blocks hold SM slots).
#include "kernels/decode_linear_cuda.h"

#include "kernels/cuda_math.cuh"

namespace tb::kernels {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kTileRows = 16;  // weight rows per block
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

template <typename T>
__global__ void __launch_bounds__(kThreads) decode_linear_kernel(DecodeLinearArgs a) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, gid = lane / 4, tig = lane % 4;
    const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kTileRows;
    // Rows past the weight's end (the last block) and input rows past `rows` read a valid row
    // instead: their products land in outputs that are never written, and no load needs a branch.
    const T* w = static_cast<const T*>(a.weight);
    const T* wa = w + min(row0 + gid, a.n - 1) * a.k + tig * 8;
    const T* wb = w + min(row0 + gid + 8, a.n - 1) * a.k + tig * 8;
    const T* x = static_cast<const T*>(a.x) + min(static_cast<int64_t>(gid), a.rows - 1) * a.k + tig * 8;

    const int64_t steps = (a.k + kStep - 1) / kStep, full_steps = a.k / kStep;
    const int64_t per_warp = (steps + kWarps - 1) / kWarps;
    const int64_t s_begin = warp * per_warp, s_end = min(s_begin + per_warp, steps);

    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    auto mma_step = [&](const uint4& va, const uint4& vb, const uint4& xv) {
        const uint32_t lo[4] = {va.x, vb.x, va.y, vb.y};
        const uint32_t hi[4] = {va.z, vb.z, va.w, vb.w};
        mma16816<T>(acc, lo, xv.x, xv.y);
        mma16816<T>(acc, hi, xv.z, xv.w);
    };

    int64_t s = s_begin;
    // whole steps, kUnroll at a time: every load issued before the first product
    for (; s + kUnroll <= min(s_end, full_steps); s += kUnroll) {
        uint4 va[kUnroll], vb[kUnroll], xv[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int64_t k = (s + u) * kStep;
            va[u] = load_streaming(wa + k);
            vb[u] = load_streaming(wb + k);
            xv[u] = __ldg(reinterpret_cast<const uint4*>(x + k));
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) mma_step(va[u], vb[u], xv[u]);
    }
    // the rest one step at a time; a last partial step (k % 32 != 0) reads zeros past k
    for (; s < s_end; ++s) {
        const int64_t k = s * kStep;
        const bool in = k + tig * 8 < a.k;
        const uint4 zero = make_uint4(0, 0, 0, 0);
        mma_step(in ? load_streaming(wa + k) : zero, in ? load_streaming(wb + k) : zero,
                 in ? __ldg(reinterpret_cast<const uint4*>(x + k)) : zero);
    }

    // C fragment: acc[0..1] = (weight row gid, input rows 2tig, 2tig+1), acc[2..3] = row gid+8
    __shared__ float part[kWarps][kTileRows][8];
    part[warp][gid][2 * tig] = acc[0];
    part[warp][gid][2 * tig + 1] = acc[1];
    part[warp][gid + 8][2 * tig] = acc[2];
    part[warp][gid + 8][2 * tig + 1] = acc[3];
    __syncthreads();
    if (threadIdx.x >= kTileRows * 8) return;
    const int r = threadIdx.x / 8, m = threadIdx.x % 8;
    const int64_t row = row0 + r;
    if (row >= a.n || m >= a.rows) return;
    float v = 0.f;
#pragma unroll
    for (int i = 0; i < kWarps; ++i) v += part[i][r][m];
    if (a.bias) v += to_float(static_cast<const T*>(a.bias)[row]);
    if (a.residual) v += to_float(static_cast<const T*>(a.residual)[m * a.n + row]);
    static_cast<T*>(a.out)[m * a.n + row] = from_float<T>(v);
}

template <typename T>
cudaError_t launch(const DecodeLinearArgs& a) {
    const auto blocks = static_cast<unsigned>((a.n + kTileRows - 1) / kTileRows);
    decode_linear_kernel<T><<<blocks, kThreads, 0, a.stream>>>(a);
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
    if (a.rows < 1 || a.rows > kDecodeLinearMaxRows || a.k % 8 != 0 || !decode_linear_supported())
        return cudaErrorInvalidValue;
    if (a.n == 0) return cudaSuccess;
    switch (a.dtype) {
        case DType::F16: return launch<__half>(a);
        case DType::BF16: return launch<__nv_bfloat16>(a);
        default: return cudaErrorInvalidValue;
    }
}

}  // namespace tb::kernels
