// RoPE forward and backward for training (rope_train.cpp): one block per (token, head, row of the
// batch), a thread per element, ATen's roundings (rope_math.cuh). Torch-free.
#include "kernels/rope_train_cuda.h"

#include "kernels/cuda_device.h"
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

// The same with 16-byte pieces: a thread rotates `per` consecutive dims of one head, its own
// piece and its partner's (the same piece for ChatGLM's pairs, the other half's for rotate-half)
// loaded whole. grid (tokens, ceil(heads * head_dim / per / kThreads), batch).
template <typename T>
__global__ void rope_rows_vec_kernel(RopeRowsArgs a) {
    constexpr int per = 16 / sizeof(T);
    const int64_t t = blockIdx.x, b = blockIdx.z;
    const int64_t pieces = a.head_dim / per;
    const int64_t v = static_cast<int64_t>(blockIdx.y) * kThreads + threadIdx.x;
    if (v >= a.heads * pieces) return;
    const int64_t h = v / pieces, d0 = (v % pieces) * per, half = a.head_dim / 2;
    const T* src = static_cast<const T*>(a.src) + b * a.src_b + t * a.src_t + h * a.src_h;
    T* dst = static_cast<T*>(a.dst) + b * a.dst_b + t * a.dst_t + h * a.dst_h;
    const T* cs = static_cast<const T*>(a.cos) + (b * a.tokens + t) * a.table;
    const T* sn = static_cast<const T*>(a.sin) + (b * a.tokens + t) * a.table;
    const int64_t p0 = a.interleaved ? d0 : (d0 < half ? d0 + half : d0 - half);
    const uint4 xr = *reinterpret_cast<const uint4*>(src + d0), orw = *reinterpret_cast<const uint4*>(src + p0);
    const T* xe = reinterpret_cast<const T*>(&xr);
    const T* oe = reinterpret_cast<const T*>(&orw);
    uint4 out;
    T* ye = reinterpret_cast<T*>(&out);
#pragma unroll
    for (int j = 0; j < per; ++j) {
        const int64_t d = d0 + j;
        const float x = to_float(xe[j]), o = to_float(a.interleaved ? xe[j ^ 1] : oe[j]);
        const bool first = a.interleaved ? (d % 2 == 0) : (d < half);  // the x0 / lower half of a pair
        const int64_t i = a.interleaved ? d / 2 : d;
        // backward: the partner's sine (equal for rotate-half's duplicated tables), opposite sign
        const int64_t is = a.backward && !a.interleaved ? p0 + j : i;
        const int64_t ic = i < a.table ? i : a.table - 1, isc = is < a.table ? is : a.table - 1;
        const float y = rope_rotate<T>(x, o, to_float(cs[ic]), to_float(sn[isc]), a.backward ? !first : first);
        ye[j] = from_float<T>(!a.interleaved || d < a.rotary_dim ? y : x);
    }
    *reinterpret_cast<uint4*>(dst + d0) = out;
}

template <typename T>
cudaError_t launch(const RopeRowsArgs& a) {
    constexpr int per = 16 / sizeof(T);
    const bool vec = a.head_dim % (2 * per) == 0 && a.src_b % per == 0 && a.src_t % per == 0 && a.src_h % per == 0 &&
                     a.dst_b % per == 0 && a.dst_t % per == 0 && a.dst_h % per == 0 && aligned16(a.src) && aligned16(a.dst);
    if (vec) {
        const int64_t pieces = a.heads * (a.head_dim / per);
        dim3 grid(static_cast<unsigned>(a.tokens), static_cast<unsigned>((pieces + kThreads - 1) / kThreads),
                  static_cast<unsigned>(a.batch));
        rope_rows_vec_kernel<T><<<grid, kThreads, 0, a.stream>>>(a);
    } else {
        dim3 grid(static_cast<unsigned>(a.tokens), static_cast<unsigned>(a.heads), static_cast<unsigned>(a.batch));
        rope_rows_kernel<T><<<grid, kThreads, 0, a.stream>>>(a);
    }
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
