// The greedy decode step's tail in one launch: one block per row finds the first maximal logit
// (torch.argmax's choice) and whether any logit is NaN/Inf, then writes the token, its stop flag
// and the row's next position. Torch-free; the ATen side (greedy_step.cpp) holds the reference.
#include "kernels/greedy_step_cuda.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/cuda_math.cuh"

namespace tb::kernels {
namespace {

constexpr int kThreads = 1024;

// (value, index) a beats b: larger, or equal and earlier.
__device__ __forceinline__ bool beats(float av, int64_t ai, float bv, int64_t bi) {
    return av > bv || (av == bv && ai < bi);
}

template <typename T>
__global__ void __launch_bounds__(kThreads) greedy_step_kernel(GreedyStepArgs a) {
    const int64_t b = blockIdx.x;
    const T* row = static_cast<const T*>(a.logits) + b * a.logits_stride;
    float best = -INFINITY;
    int64_t at = a.vocab;  // past the end: no finite candidate yet
    bool bad = false;
    for (int64_t i = threadIdx.x; i < a.vocab; i += kThreads) {  // coalesced; every load independent
        const float v = to_float(row[i]);
        bad |= !isfinite(v);
        if (beats(v, i, best, at)) {
            best = v;
            at = i;
        }
    }
    for (int o = 16; o > 0; o /= 2) {
        const float ov = __shfl_xor_sync(0xffffffffu, best, o);
        const int64_t oi = __shfl_xor_sync(0xffffffffu, at, o);
        if (beats(ov, oi, best, at)) {
            best = ov;
            at = oi;
        }
        bad |= __shfl_xor_sync(0xffffffffu, bad, o);
    }
    __shared__ float warp_best[kThreads / 32];
    __shared__ int64_t warp_at[kThreads / 32];
    __shared__ bool warp_bad[kThreads / 32];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) {
        warp_best[warp] = best;
        warp_at[warp] = at;
        warp_bad[warp] = bad;
    }
    __syncthreads();
    if (threadIdx.x != 0) return;
    for (int w = 1; w < kThreads / 32; ++w) {
        if (beats(warp_best[w], warp_at[w], best, at)) {
            best = warp_best[w];
            at = warp_at[w];
        }
        bad |= warp_bad[w];
    }
    if (at >= a.vocab) at = 0;  // every logit NaN: the flag stops decoding; any id will do
    bool stop = false;
    for (int64_t s = 0; s < a.stops; ++s) stop |= a.stop_ids[s] == at;
    a.ids[b] = at;
    a.positions[b] += a.active[b];
    a.out[3 * b] = at;
    a.out[3 * b + 1] = stop ? 1 : 0;
    a.out[3 * b + 2] = bad ? 1 : 0;
}

}  // namespace

cudaError_t greedy_step_forward(const GreedyStepArgs& a) {
    if (a.batch == 0) return cudaSuccess;
    const dim3 grid(static_cast<unsigned>(a.batch));
    switch (a.dtype) {
        case DType::F32: greedy_step_kernel<float><<<grid, kThreads, 0, a.stream>>>(a); break;
        case DType::F16: greedy_step_kernel<__half><<<grid, kThreads, 0, a.stream>>>(a); break;
        case DType::BF16: greedy_step_kernel<__nv_bfloat16><<<grid, kThreads, 0, a.stream>>>(a); break;
    }
    return cudaGetLastError();
}

}  // namespace tb::kernels
