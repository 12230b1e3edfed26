// Cross-entropy over rows of logits in the model dtype (linear_cross_entropy.cpp holds the
// reference): the forward is one pass per row (an online max and sum of exponentials, then the
// log-sum-exp and the row's loss), the backward one pass writing (softmax - one_hot) * valid * grad
// rounded once to the model dtype, as the reference's fp32 ops and final cast compute it.
#include "kernels/cross_entropy_cuda.h"

#include <cfloat>

#include "kernels/cuda_device.h"
#include "kernels/cuda_math.cuh"

namespace tb::kernels {
namespace {

constexpr int kThreads = 512;

// (m, s): a running maximum and the sum of exp(x - m) over what was seen.
__device__ __forceinline__ void merge(float& m, float& s, float m2, float s2) {
    const float mm = fmaxf(m, m2);
    if (mm == -INFINITY) return;  // both empty
    s = s * expf(m - mm) + s2 * expf(m2 - mm);
    m = mm;
}

template <typename T, bool Vec>
__global__ void cross_entropy_forward_kernel(CrossEntropyRowsArgs a) {
    constexpr int per = Vec ? 16 / sizeof(T) : 1;
    const int64_t row = blockIdx.x;
    const T* l = static_cast<const T*>(a.logits) + row * a.vocab;
    float m = -INFINITY, s = 0.f;
    for (int64_t c = static_cast<int64_t>(threadIdx.x) * per; c < a.vocab; c += static_cast<int64_t>(kThreads) * per) {
        float v[per];
        if constexpr (Vec) {
            const uint4 raw = *reinterpret_cast<const uint4*>(l + c);
            const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
            for (int i = 0; i < per; ++i) v[i] = to_float(e[i]);
        } else {
            v[0] = to_float(l[c]);
        }
        float vm = v[0];
#pragma unroll
        for (int i = 1; i < per; ++i) vm = fmaxf(vm, v[i]);
        float vs = 0.f;
#pragma unroll
        for (int i = 0; i < per; ++i) vs += expf(v[i] - vm);
        merge(m, s, vm, vs);
    }
    for (int o = 16; o > 0; o /= 2) {
        const float m2 = __shfl_xor_sync(0xffffffffu, m, o), s2 = __shfl_xor_sync(0xffffffffu, s, o);
        merge(m, s, m2, s2);
    }
    __shared__ float wm[kThreads / 32], ws[kThreads / 32];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) {
        wm[warp] = m;
        ws[warp] = s;
    }
    __syncthreads();
    if (warp == 0) {
        m = lane < kThreads / 32 ? wm[lane] : -INFINITY;
        s = lane < kThreads / 32 ? ws[lane] : 0.f;
        for (int o = 16; o > 0; o /= 2) {
            const float m2 = __shfl_xor_sync(0xffffffffu, m, o), s2 = __shfl_xor_sync(0xffffffffu, s, o);
            merge(m, s, m2, s2);
        }
        if (lane == 0) {
            const float lse = m + logf(s);
            a.lse[row] = lse;
            a.loss[row] = (lse - to_float(l[a.target[row]])) * a.valid[row];
        }
    }
}

template <typename T, bool Vec>
__global__ void cross_entropy_backward_kernel(CrossEntropyRowsArgs a) {
    constexpr int per = Vec ? 16 / sizeof(T) : 1;
    const int64_t row = blockIdx.y;
    const int64_t c = (static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x) * per;
    if (c >= a.vocab) return;
    const T* l = static_cast<const T*>(a.logits) + row * a.vocab + c;
    T* d = static_cast<T*>(a.grad_logits) + row * a.vocab + c;
    const float lse = a.lse[row], valid = a.valid[row], scale = valid * *a.grad;
    const int64_t target = a.target[row];
    float v[per];
    if constexpr (Vec) {
        const uint4 raw = *reinterpret_cast<const uint4*>(l);
        const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
        for (int i = 0; i < per; ++i) v[i] = to_float(e[i]);
    } else {
        v[0] = to_float(*l);
    }
    T out[per];
#pragma unroll
    for (int i = 0; i < per; ++i) {
        float p = expf(v[i] - lse);
        if (c + i == target) p += -valid;  // the reference's scatter_add of -valid at the target
        out[i] = from_float<T>(p * scale);
    }
    if constexpr (Vec)
        *reinterpret_cast<uint4*>(d) = *reinterpret_cast<const uint4*>(out);
    else
        *d = out[0];
}

bool vectorised(const CrossEntropyRowsArgs& a, int per, const void* out) {
    return a.vocab % per == 0 && aligned16(a.logits) && aligned16(out);
}

template <typename T>
cudaError_t launch_forward(const CrossEntropyRowsArgs& a) {
    if (vectorised(a, 16 / sizeof(T), nullptr))
        cross_entropy_forward_kernel<T, true><<<static_cast<unsigned>(a.rows), kThreads, 0, a.stream>>>(a);
    else
        cross_entropy_forward_kernel<T, false><<<static_cast<unsigned>(a.rows), kThreads, 0, a.stream>>>(a);
    return cudaGetLastError();
}

template <typename T>
cudaError_t launch_backward(const CrossEntropyRowsArgs& a) {
    constexpr int64_t kMaxRows = 65535;  // grid.y
    const bool vec = vectorised(a, 16 / sizeof(T), a.grad_logits);
    const int64_t each = vec ? 16 / sizeof(T) : 1;
    for (int64_t r0 = 0; r0 < a.rows; r0 += kMaxRows) {
        CrossEntropyRowsArgs c = a;
        c.rows = a.rows - r0 < kMaxRows ? a.rows - r0 : kMaxRows;
        c.logits = static_cast<const T*>(a.logits) + r0 * a.vocab;
        c.grad_logits = static_cast<T*>(a.grad_logits) + r0 * a.vocab;
        c.target = a.target + r0;
        c.valid = a.valid + r0;
        c.lse = a.lse + r0;
        dim3 grid(static_cast<unsigned>((a.vocab + kThreads * each - 1) / (kThreads * each)), static_cast<unsigned>(c.rows));
        if (vec)
            cross_entropy_backward_kernel<T, true><<<grid, kThreads, 0, a.stream>>>(c);
        else
            cross_entropy_backward_kernel<T, false><<<grid, kThreads, 0, a.stream>>>(c);
        const cudaError_t err = cudaGetLastError();
        if (err != cudaSuccess) return err;
    }
    return cudaSuccess;
}

}  // namespace

cudaError_t cross_entropy_rows_forward(const CrossEntropyRowsArgs& a) {
    if (a.rows == 0) return cudaSuccess;
    switch (a.dtype) {
        case DType::F32: return launch_forward<float>(a);
        case DType::F16: return launch_forward<__half>(a);
        case DType::BF16: return launch_forward<__nv_bfloat16>(a);
    }
    return cudaErrorInvalidValue;
}

cudaError_t cross_entropy_rows_backward(const CrossEntropyRowsArgs& a) {
    if (a.rows == 0) return cudaSuccess;
    switch (a.dtype) {
        case DType::F32: return launch_backward<float>(a);
        case DType::F16: return launch_backward<__half>(a);
        case DType::BF16: return launch_backward<__nv_bfloat16>(a);
    }
    return cudaErrorInvalidValue;
}

}  // namespace tb::kernels
