// RoPE forward and backward for training (rope_train.cpp): one block per (token, head, row of the
// batch), a thread per element, ATen's roundings (rope_math.cuh). Torch-free.
#include "kernels/rope_train_cuda.h"

#include "kernels/rope_math.cuh"

namespace tb::kernels {
namespace {

constexpr int kThreads = 128;

template <typename T>
__global__ void rope_rows_kernel(RopeRowsArgs a) {
    const int64_t t = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const T* src = static_cast<const T*>(a.src) + b * a.src_b + t * a.src_t + h * a.src_h;
    T* dst = static_cast<T*>(a.dst) + b * a.dst_b + t * a.dst_t + h * a.dst_h;
    const T* cs = static_cast<const T*>(a.cos) + (b * a.tokens + t) * a.table;
    const T* sn = static_cast<const T*>(a.sin) + (b * a.tokens + t) * a.table;
    for (int64_t d = threadIdx.x; d < a.head_dim; d += kThreads) {
        const float y = a.backward ? rope_grad_element(src, cs, sn, d, a.head_dim, a.rotary_dim, a.table, a.interleaved)
                                   : rope_element(src, cs, sn, d, a.head_dim, a.rotary_dim, a.table, a.interleaved, true);
        dst[d] = from_float<T>(y);
    }
}

template <typename T>
cudaError_t launch(const RopeRowsArgs& a) {
    dim3 grid(static_cast<unsigned>(a.tokens), static_cast<unsigned>(a.heads), static_cast<unsigned>(a.batch));
    rope_rows_kernel<T><<<grid, kThreads, 0, a.stream>>>(a);
    return cudaGetLastError();
}

}  // namespace

cudaError_t rope_rows(const RopeRowsArgs& a) {
    if (a.batch == 0 || a.tokens == 0 || a.heads == 0) return cudaSuccess;
    if (a.heads > 65535 || a.batch > 65535) return cudaErrorInvalidValue;
    switch (a.dtype) {
        case DType::F32: return launch<float>(a);
        case DType::F16: return launch<__half>(a);
        case DType::BF16: return launch<__nv_bfloat16>(a);
    }
    return cudaErrorInvalidValue;
}

}  // namespace tb::kernels
