// SwiGLU on the GPU: out = silu(gate) * up with ATen's roundings (silu in fp32 rounded to T, then
// the product rounded to T). 16-byte loads where rows and pointers allow, else one element per
// thread.
#include "kernels/swiglu_cuda.h"

#include "kernels/cuda_device.h"
#include "kernels/cuda_math.cuh"

namespace tb::kernels {
namespace {

constexpr int kThreads = 256;

// ATen's silu: x / (1 + exp(-x)) in fp32, rounded to T.
template <typename T>
__device__ __forceinline__ T swiglu_one(T g, T u) {
    const float x = to_float(g);
    const float s = rounded<T>(x / (1.0f + expf(-x)));
    return from_float<T>(s * to_float(u));
}

// ATen's backward of silu(g) * u: du = dy * silu(g) and t = dy * u, each rounded to T; then
// silu_backward(t, g) = t * s * (1 + g * (1 - s)), s = sigmoid(g), in fp32, rounded to T.
template <typename T>
__device__ __forceinline__ void swiglu_grad_one(T g, T u, T dy, T* dg, T* du) {
    const float x = to_float(g), d = to_float(dy), e = expf(-x);
    const float silu = rounded<T>(x / (1.0f + e));
    *du = from_float<T>(d * silu);
    const float t = rounded<T>(d * to_float(u));
    const float s = 1.0f / (1.0f + e);
    *dg = from_float<T>(t * s * (1.0f + x * (1.0f - s)));
}

// grid (ceil(cols / (kThreads * per)), rows); per = 16 / sizeof(T) elements per thread when vec.
template <typename T, bool Vec>
__global__ void swiglu_kernel(SwigluArgs a) {
    constexpr int per = Vec ? 16 / sizeof(T) : 1;
    const int64_t r = blockIdx.y;
    const int64_t c = (static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x) * per;
    if (c >= a.cols) return;
    const T* g = static_cast<const T*>(a.gate) + r * a.gate_stride + c;
    const T* u = static_cast<const T*>(a.up) + r * a.up_stride + c;
    T* o = static_cast<T*>(a.out) + r * a.cols + c;
    if constexpr (Vec) {
        const uint4 gv = *reinterpret_cast<const uint4*>(g), uv = *reinterpret_cast<const uint4*>(u);
        uint4 ov;
        const T* ge = reinterpret_cast<const T*>(&gv);
        const T* ue = reinterpret_cast<const T*>(&uv);
        T* oe = reinterpret_cast<T*>(&ov);
#pragma unroll
        for (int i = 0; i < per; ++i) oe[i] = swiglu_one(ge[i], ue[i]);
        *reinterpret_cast<uint4*>(o) = ov;
    } else {
        *o = swiglu_one(*g, *u);
    }
}

template <typename T, bool Vec>
__global__ void swiglu_backward_kernel(SwigluBackwardArgs a) {
    constexpr int per = Vec ? 16 / sizeof(T) : 1;
    const int64_t r = blockIdx.y;
    const int64_t c = (static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x) * per;
    if (c >= a.cols) return;
    const T* g = static_cast<const T*>(a.gate) + r * a.gate_stride + c;
    const T* u = static_cast<const T*>(a.up) + r * a.up_stride + c;
    const T* dy = static_cast<const T*>(a.grad_out) + r * a.cols + c;
    T* dg = static_cast<T*>(a.grad_gate) + r * a.grad_gate_stride + c;
    T* du = static_cast<T*>(a.grad_up) + r * a.grad_up_stride + c;
    if constexpr (Vec) {
        const uint4 gv = *reinterpret_cast<const uint4*>(g), uv = *reinterpret_cast<const uint4*>(u),
                    yv = *reinterpret_cast<const uint4*>(dy);
        uint4 dgv, duv;
        const T* ge = reinterpret_cast<const T*>(&gv);
        const T* ue = reinterpret_cast<const T*>(&uv);
        const T* ye = reinterpret_cast<const T*>(&yv);
        T* dge = reinterpret_cast<T*>(&dgv);
        T* due = reinterpret_cast<T*>(&duv);
#pragma unroll
        for (int i = 0; i < per; ++i) swiglu_grad_one(ge[i], ue[i], ye[i], dge + i, due + i);
        *reinterpret_cast<uint4*>(dg) = dgv;
        *reinterpret_cast<uint4*>(du) = duv;
    } else {
        swiglu_grad_one(*g, *u, *dy, dg, du);
    }
}

template <typename T>
cudaError_t launch_backward(SwigluBackwardArgs a) {
    constexpr int per = 16 / sizeof(T);
    constexpr int64_t kMaxRows = 65535;  // grid.y
    const bool vec = a.cols % per == 0 && a.gate_stride % per == 0 && a.up_stride % per == 0 &&
                     a.grad_gate_stride % per == 0 && a.grad_up_stride % per == 0 && aligned16(a.gate) &&
                     aligned16(a.up) && aligned16(a.grad_out) && aligned16(a.grad_gate) && aligned16(a.grad_up);
    const int64_t each = vec ? per : 1;
    for (int64_t r0 = 0; r0 < a.rows; r0 += kMaxRows) {
        SwigluBackwardArgs c = a;
        c.rows = a.rows - r0 < kMaxRows ? a.rows - r0 : kMaxRows;
        c.gate = static_cast<const T*>(a.gate) + r0 * a.gate_stride;
        c.up = static_cast<const T*>(a.up) + r0 * a.up_stride;
        c.grad_out = static_cast<const T*>(a.grad_out) + r0 * a.cols;
        c.grad_gate = static_cast<T*>(a.grad_gate) + r0 * a.grad_gate_stride;
        c.grad_up = static_cast<T*>(a.grad_up) + r0 * a.grad_up_stride;
        dim3 grid(static_cast<unsigned>((a.cols + kThreads * each - 1) / (kThreads * each)), static_cast<unsigned>(c.rows));
        if (vec)
            swiglu_backward_kernel<T, true><<<grid, kThreads, 0, a.stream>>>(c);
        else
            swiglu_backward_kernel<T, false><<<grid, kThreads, 0, a.stream>>>(c);
        const cudaError_t err = cudaGetLastError();
        if (err != cudaSuccess) return err;
    }
    return cudaSuccess;
}

template <typename T>
cudaError_t launch_rows(const SwigluArgs& a) {
    constexpr int per = 16 / sizeof(T);
    const bool vec = a.cols % per == 0 && a.gate_stride % per == 0 && a.up_stride % per == 0 && aligned16(a.gate) &&
                     aligned16(a.up) && aligned16(a.out);
    const int64_t each = vec ? per : 1;
    dim3 grid(static_cast<unsigned>((a.cols + kThreads * each - 1) / (kThreads * each)), static_cast<unsigned>(a.rows));
    if (vec)
        swiglu_kernel<T, true><<<grid, kThreads, 0, a.stream>>>(a);
    else
        swiglu_kernel<T, false><<<grid, kThreads, 0, a.stream>>>(a);
    return cudaGetLastError();
}

// grid.y holds at most 65535 rows: larger inputs go in chunks.
template <typename T>
cudaError_t launch(SwigluArgs a) {
    constexpr int64_t kMaxRows = 65535;
    for (int64_t r0 = 0; r0 < a.rows; r0 += kMaxRows) {
        SwigluArgs c = a;
        c.rows = a.rows - r0 < kMaxRows ? a.rows - r0 : kMaxRows;
        c.gate = static_cast<const T*>(a.gate) + r0 * a.gate_stride;
        c.up = static_cast<const T*>(a.up) + r0 * a.up_stride;
        c.out = static_cast<T*>(a.out) + r0 * a.cols;
        const cudaError_t err = launch_rows<T>(c);
        if (err != cudaSuccess) return err;
    }
    return cudaSuccess;
}

}  // namespace

cudaError_t swiglu_backward(const SwigluBackwardArgs& a) {
    if (a.rows == 0 || a.cols == 0) return cudaSuccess;
    switch (a.dtype) {
        case DType::F32: return launch_backward<float>(a);
        case DType::F16: return launch_backward<__half>(a);
        case DType::BF16: return launch_backward<__nv_bfloat16>(a);
    }
    return cudaErrorInvalidValue;
}

cudaError_t swiglu_forward(const SwigluArgs& a) {
    if (a.rows == 0 || a.cols == 0) return cudaSuccess;
    switch (a.dtype) {
        case DType::F32: return launch<float>(a);
        case DType::F16: return launch<__half>(a);
        case DType::BF16: return launch<__nv_bfloat16>(a);
    }
    return cudaErrorInvalidValue;
}

}  // namespace tb::kernels
