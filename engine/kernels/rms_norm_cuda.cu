// RMSNorm forward on the GPU: one block per row, fp32 accumulation, the two roundings of the
// ATen reference (rms_norm.cpp) reproduced. Torch-free, so nvcc compiles it quickly; the ATen
// side (rms_norm.cpp) checks the tensors and passes raw pointers and the stream.
#include "kernels/rms_norm_cuda.h"

#include "kernels/cuda_device.h"
#include "kernels/cuda_math.cuh"

namespace tb::kernels {
namespace {

constexpr int kThreads = 256;

// y[r, :] = w * (x[r, :] * rsqrt(mean(x[r, :]^2) + eps)); with round_once false the normalised
// value is rounded to T before the product (LLaMA/Qwen2 order), else only the product is (ChatGLM).
template <typename T, typename W>
__global__ void rms_norm_kernel(const T* __restrict__ x, const W* __restrict__ w, T* __restrict__ y,
                                int64_t cols, float eps, bool round_once) {
    const int64_t row = blockIdx.x;
    const T* xr = x + row * cols;
    T* yr = y + row * cols;
    float sum = 0.f;
    for (int64_t i = threadIdx.x; i < cols; i += kThreads) {
        const float v = to_float(xr[i]);
        sum += v * v;
    }
    __shared__ float warp_sums[kThreads / 32];
    for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = sum;
    __syncthreads();
    __shared__ float inv_rms;
    if (threadIdx.x < 32) {
        float s = threadIdx.x < kThreads / 32 ? warp_sums[threadIdx.x] : 0.f;
        for (int offset = 16; offset > 0; offset /= 2) s += __shfl_xor_sync(0xffffffffu, s, offset);
        if (threadIdx.x == 0) inv_rms = rsqrtf(s / static_cast<float>(cols) + eps);
    }
    __syncthreads();
    const float r = inv_rms;
    for (int64_t i = threadIdx.x; i < cols; i += kThreads) {
        float n = to_float(xr[i]) * r;
        if (!round_once) n = to_float(from_float<T>(n));
        yr[i] = from_float<T>(to_float(w[i]) * n);
    }
}

// The same for rows that fit one 16-byte load per thread (cols / per threads, a whole number of
// warps, at most 1024): the row is read once into registers, not twice. This is the decode step's
// case (a few rows of hidden size 2048 … 8192), where the kernel's latency is what counts.
template <typename T, typename W>
__global__ void rms_norm_row_in_registers(const T* __restrict__ x, const W* __restrict__ w, T* __restrict__ y,
                                          int64_t cols, float eps, bool round_once) {
    constexpr int per = 16 / sizeof(T);
    const int64_t offset = blockIdx.x * cols + threadIdx.x * per;
    const uint4 raw = *reinterpret_cast<const uint4*>(x + offset);
    const T* xe = reinterpret_cast<const T*>(&raw);
    float v[per];
    float sum = 0.f;
#pragma unroll
    for (int i = 0; i < per; ++i) {
        v[i] = to_float(xe[i]);
        sum += v[i] * v[i];
    }
    __shared__ float warp_sums[32];
    __shared__ float inv_rms;
    for (int o = 16; o > 0; o /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = sum;
    __syncthreads();
    if (threadIdx.x < 32) {
        float s = threadIdx.x < blockDim.x / 32 ? warp_sums[threadIdx.x] : 0.f;
        for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (threadIdx.x == 0) inv_rms = rsqrtf(s / static_cast<float>(cols) + eps);
    }
    __syncthreads();
    const float r = inv_rms;
    uint4 out;
    T* oe = reinterpret_cast<T*>(&out);
    const W* wr = w + threadIdx.x * per;
#pragma unroll
    for (int i = 0; i < per; ++i) {
        float n = v[i] * r;
        if (!round_once) n = to_float(from_float<T>(n));
        oe[i] = from_float<T>(to_float(wr[i]) * n);
    }
    *reinterpret_cast<uint4*>(y + offset) = out;
}

template <typename T, typename W>
cudaError_t launch(const RmsNormArgs& a) {
    constexpr int per = 16 / sizeof(T);
    const int64_t threads = a.cols / per;
    if (a.cols % per == 0 && threads % 32 == 0 && threads <= 1024 && aligned16(a.x) && aligned16(a.y)) {
        rms_norm_row_in_registers<T, W><<<static_cast<unsigned>(a.rows), static_cast<unsigned>(threads), 0, a.stream>>>(
            static_cast<const T*>(a.x), static_cast<const W*>(a.weight), static_cast<T*>(a.y), a.cols, a.eps,
            a.round_once);
    } else {
        rms_norm_kernel<T, W><<<static_cast<unsigned>(a.rows), kThreads, 0, a.stream>>>(
            static_cast<const T*>(a.x), static_cast<const W*>(a.weight), static_cast<T*>(a.y), a.cols, a.eps,
            a.round_once);
    }
    return cudaGetLastError();
}

template <typename T>
cudaError_t launch_for_weight(const RmsNormArgs& a) {
    switch (a.weight_dtype) {
        case DType::F32: return launch<T, float>(a);
        case DType::F16: return launch<T, __half>(a);
        case DType::BF16: return launch<T, __nv_bfloat16>(a);
    }
    return cudaErrorInvalidValue;
}

// The backward of y = w * n, n = x * r, r = rsqrt(mean(x²) + eps), in fp32 as the reference's
// autograd runs it: dn = g * w (rounded to T first when round_once is false: the reference's
// product is a T op), dx = r * dn - x * r³ * mean(dn * x), rounded once to T. Each block walks rows
// blockIdx.x, + gridDim.x, … with its row slice in registers and sums g * n per column for
// grad_weight in registers, written once as the block's partial row.
template <typename T, typename W>
__global__ void rms_norm_backward_rows(RmsNormBackwardArgs a) {
    constexpr int per = 16 / sizeof(T);
    const int64_t col = static_cast<int64_t>(threadIdx.x) * per;
    const int warps = blockDim.x / 32, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const W* wp = static_cast<const W*>(a.weight) + col;
    float w[per], dw[per];
#pragma unroll
    for (int i = 0; i < per; ++i) {
        w[i] = to_float(wp[i]);
        dw[i] = 0.f;
    }
    __shared__ float partial[2][32];
    __shared__ float total[2];
    for (int64_t row = blockIdx.x; row < a.rows; row += gridDim.x) {
        const int64_t offset = row * a.cols + col;
        const uint4 xr = *reinterpret_cast<const uint4*>(static_cast<const T*>(a.x) + offset);
        const uint4 gr = *reinterpret_cast<const uint4*>(static_cast<const T*>(a.grad_y) + offset);
        const T* xe = reinterpret_cast<const T*>(&xr);
        const T* ge = reinterpret_cast<const T*>(&gr);
        float x[per], g[per], dn[per];
        float ss = 0.f, sd = 0.f;
#pragma unroll
        for (int i = 0; i < per; ++i) {
            x[i] = to_float(xe[i]);
            g[i] = to_float(ge[i]);
            dn[i] = a.round_once ? g[i] * w[i] : rounded<T>(g[i] * w[i]);
            ss += x[i] * x[i];
            sd += dn[i] * x[i];
        }
        for (int o = 16; o > 0; o /= 2) {
            ss += __shfl_xor_sync(0xffffffffu, ss, o);
            sd += __shfl_xor_sync(0xffffffffu, sd, o);
        }
        if (lane == 0) {
            partial[0][warp] = ss;
            partial[1][warp] = sd;
        }
        __syncthreads();
        if (warp == 0) {
            float s0 = lane < warps ? partial[0][lane] : 0.f, s1 = lane < warps ? partial[1][lane] : 0.f;
            for (int o = 16; o > 0; o /= 2) {
                s0 += __shfl_xor_sync(0xffffffffu, s0, o);
                s1 += __shfl_xor_sync(0xffffffffu, s1, o);
            }
            if (lane == 0) {
                total[0] = s0;
                total[1] = s1;
            }
        }
        __syncthreads();
        const float n_cols = static_cast<float>(a.cols);
        const float r = rsqrtf(total[0] / n_cols + a.eps);
        const float c = r * r * r * total[1] / n_cols;
        uint4 out;
        T* oe = reinterpret_cast<T*>(&out);
#pragma unroll
        for (int i = 0; i < per; ++i) {
            oe[i] = from_float<T>(r * dn[i] - x[i] * c);
            if (a.grad_weight_partial) {
                const float n = a.round_once ? x[i] * r : rounded<T>(x[i] * r);
                dw[i] += g[i] * n;
            }
        }
        *reinterpret_cast<uint4*>(static_cast<T*>(a.grad_x) + offset) = out;
        __syncthreads();  // total and partial are rewritten by the next row
    }
    if (a.grad_weight_partial) {
        float* p = a.grad_weight_partial + blockIdx.x * a.cols + col;
#pragma unroll
        for (int i = 0; i < per; ++i) p[i] = dw[i];
    }
}

int per_for(DType d) { return d == DType::F32 ? 4 : 8; }

template <typename T, typename W>
cudaError_t launch_backward(const RmsNormBackwardArgs& a) {
    const int blocks = rms_norm_backward_blocks(a.rows, a.cols, a.dtype);
    if (blocks == 0 || !aligned16(a.x) || !aligned16(a.grad_y) || !aligned16(a.grad_x)) return cudaErrorInvalidValue;
    rms_norm_backward_rows<T, W><<<blocks, static_cast<unsigned>(a.cols / per_for(a.dtype)), 0, a.stream>>>(a);
    return cudaGetLastError();
}

template <typename T>
cudaError_t launch_backward_for_weight(const RmsNormBackwardArgs& a) {
    switch (a.weight_dtype) {
        case DType::F32: return launch_backward<T, float>(a);
        case DType::F16: return launch_backward<T, __half>(a);
        case DType::BF16: return launch_backward<T, __nv_bfloat16>(a);
    }
    return cudaErrorInvalidValue;
}

}  // namespace

int rms_norm_backward_blocks(int64_t rows, int64_t cols, DType dtype) {
    const int64_t per = per_for(dtype), threads = cols / per;
    if (rows < 1 || cols % per != 0 || threads % 32 != 0 || threads > 1024) return 0;
    const int64_t most = 2 * static_cast<int64_t>(sm_count());  // two blocks per SM: a few rows each
    return static_cast<int>(rows < most ? rows : most);
}

cudaError_t rms_norm_backward(const RmsNormBackwardArgs& a) {
    if (a.rows == 0) return cudaSuccess;
    switch (a.dtype) {
        case DType::F32: return launch_backward_for_weight<float>(a);
        case DType::F16: return launch_backward_for_weight<__half>(a);
        case DType::BF16: return launch_backward_for_weight<__nv_bfloat16>(a);
    }
    return cudaErrorInvalidValue;
}

cudaError_t rms_norm_forward(const RmsNormArgs& a) {
    if (a.rows == 0) return cudaSuccess;
    switch (a.dtype) {
        case DType::F32: return launch_for_weight<float>(a);
        case DType::F16: return launch_for_weight<__half>(a);
        case DType::BF16: return launch_for_weight<__nv_bfloat16>(a);
    }
    return cudaErrorInvalidValue;
}

}  // namespace tb::kernels
