// Decode-step kernels: RoPE + KV-cache write, and attention over the cache. Torch-free; the
// ATen side (rope_cache.cpp, decode_attention.cpp) checks tensors and holds the references.
#include "kernels/decode_cuda.h"

#include "kernels/cuda_math.cuh"

namespace tb::kernels {
namespace {

// One block per (row, head role): blockIdx.y < heads → a query head, then kv_heads key heads,
// then kv_heads value heads. Each RoPE product and sum is rounded to T as the ATen reference's
// separate ops are (Rope::apply in model/rope.cpp).
template <typename T>
__global__ void rope_cache_kernel(RopeCacheArgs a) {
    const int64_t b = blockIdx.x;
    const int64_t role = blockIdx.y;
    const int64_t hd = a.head_dim;
    const T* src;
    T* dst;
    bool rotate = true;
    int64_t pos = a.positions[b];
    if (pos > a.capacity - 1) pos = a.capacity - 1;
    if (pos < 0) pos = 0;
    if (role < a.heads) {
        src = static_cast<const T*>(a.q) + b * a.q_stride + role * hd;
        dst = static_cast<T*>(a.q_out) + (b * a.heads + role) * hd;
    } else if (role < a.heads + a.kv_heads) {
        const int64_t g = role - a.heads;
        src = static_cast<const T*>(a.k) + b * a.k_stride + g * hd;
        dst = static_cast<T*>(a.k_cache) + ((b * a.kv_heads + g) * a.capacity + pos) * hd;
    } else {
        const int64_t g = role - a.heads - a.kv_heads;
        src = static_cast<const T*>(a.v) + b * a.v_stride + g * hd;
        dst = static_cast<T*>(a.v_cache) + ((b * a.kv_heads + g) * a.capacity + pos) * hd;
        rotate = false;
    }
    const T* cs = static_cast<const T*>(a.cos) + b * a.table;
    const T* sn = static_cast<const T*>(a.sin) + b * a.table;
    for (int64_t d = threadIdx.x; d < hd; d += blockDim.x) {
        const float x = to_float(src[d]);
        float y = x;
        if (rotate) {
            if (a.interleaved) {
                if (d < a.rotary_dim) {
                    const int64_t i = d / 2;
                    const float c = to_float(cs[i]), s = to_float(sn[i]);
                    const float x0 = to_float(src[2 * i]), x1 = to_float(src[2 * i + 1]);
                    y = (d % 2 == 0) ? rounded<T>(rounded<T>(x0 * c) - rounded<T>(x1 * s))
                                     : rounded<T>(rounded<T>(x1 * c) + rounded<T>(x0 * s));
                }
            } else {
                const int64_t half = hd / 2;
                const float c = to_float(cs[d]), s = to_float(sn[d]);
                const float other = d < half ? -to_float(src[d + half]) : to_float(src[d - half]);
                y = rounded<T>(rounded<T>(x * c) + rounded<T>(other * s));
            }
        }
        dst[d] = from_float<T>(y);
    }
}

constexpr int kWarps = 8;
constexpr int kPerLane = kDecodeAttentionMaxHeadDim / 32;

// q · k over head_dim with fp32 accumulation; 16-byte loads where rows allow.
template <typename T>
__device__ __forceinline__ float dot_row(const float* qs, const T* k, int64_t hd) {
    float s = 0.f;
    if ((hd * static_cast<int64_t>(sizeof(T))) % 16 == 0) {
        constexpr int per = 16 / sizeof(T);
        const uint4* k4 = reinterpret_cast<const uint4*>(k);
#pragma unroll 4
        for (int64_t i = 0; i < hd / per; ++i) {
            const uint4 raw = k4[i];
            const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
            for (int u = 0; u < per; ++u) s += qs[i * per + u] * to_float(e[u]);
        }
    } else {
        for (int64_t d = 0; d < hd; ++d) s += qs[d] * to_float(k[d]);
    }
    return s;
}

// One block per (head, row), flash-decoding style: each warp takes chunks of 32 keys, one key per
// lane for the scores (independent row loads), then the chunk's values with one output dim per
// lane (coalesced); an online softmax per warp, the warps' partial results merged at the end.
template <typename T>
__global__ void decode_attention_kernel(DecodeAttentionArgs a) {
    const int64_t h = blockIdx.x, b = blockIdx.y;
    const int64_t hd = a.head_dim;
    const int64_t g = h / (a.heads / a.kv_heads);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t len = a.lengths[b] < a.capacity ? a.lengths[b] : a.capacity;
    const T* q = static_cast<const T*>(a.q) + (b * a.heads + h) * hd;
    const T* K = static_cast<const T*>(a.k_cache) + (b * a.kv_heads + g) * a.capacity * hd;
    const T* V = static_cast<const T*>(a.v_cache) + (b * a.kv_heads + g) * a.capacity * hd;
    __shared__ float qs[kDecodeAttentionMaxHeadDim];
    for (int64_t d = threadIdx.x; d < hd; d += blockDim.x) qs[d] = to_float(q[d]) * a.scale;
    __syncthreads();
    float acc[kPerLane];
#pragma unroll
    for (int t = 0; t < kPerLane; ++t) acc[t] = 0.f;
    float m = -INFINITY, l = 0.f;
    for (int64_t base = static_cast<int64_t>(warp) * 32; base < len; base += kWarps * 32) {
        const int64_t key = base + lane;
        const float s = key < len ? dot_row(qs, K + key * hd, hd) : -INFINITY;
        float chunk_max = s;
        for (int o = 16; o > 0; o /= 2) chunk_max = fmaxf(chunk_max, __shfl_xor_sync(0xffffffffu, chunk_max, o));
        const float m_new = fmaxf(m, chunk_max);  // finite: key `base` < len
        const float p = key < len ? __expf(s - m_new) : 0.f;
        float p_sum = p;
        for (int o = 16; o > 0; o /= 2) p_sum += __shfl_xor_sync(0xffffffffu, p_sum, o);
        const float correction = __expf(m - m_new);
        l = l * correction + p_sum;
#pragma unroll
        for (int t = 0; t < kPerLane; ++t) acc[t] *= correction;
        const int64_t n = len - base < 32 ? len - base : 32;
        for (int64_t j = 0; j < n; ++j) {
            const float pj = __shfl_sync(0xffffffffu, p, static_cast<int>(j));
            const T* vj = V + (base + j) * hd;
#pragma unroll
            for (int t = 0; t < kPerLane; ++t) {
                const int64_t d = lane + 32 * t;
                if (d < hd) acc[t] += pj * to_float(vj[d]);
            }
        }
        m = m_new;
    }
    __shared__ float warp_m[kWarps], warp_l[kWarps];
    __shared__ float warp_acc[kWarps][kDecodeAttentionMaxHeadDim];
    if (lane == 0) {
        warp_m[warp] = m;
        warp_l[warp] = l;
    }
#pragma unroll
    for (int t = 0; t < kPerLane; ++t) {
        const int64_t d = lane + 32 * t;
        if (d < hd) warp_acc[warp][d] = acc[t];
    }
    __syncthreads();
    float M = -INFINITY;
    for (int w = 0; w < kWarps; ++w) M = fmaxf(M, warp_m[w]);
    float L = 0.f;
    for (int w = 0; w < kWarps; ++w) L += warp_m[w] == -INFINITY ? 0.f : warp_l[w] * __expf(warp_m[w] - M);
    T* out = static_cast<T*>(a.out) + (b * a.heads + h) * hd;
    for (int64_t d = threadIdx.x; d < hd; d += blockDim.x) {
        float sum = 0.f;
        for (int w = 0; w < kWarps; ++w)
            if (warp_m[w] != -INFINITY) sum += warp_acc[w][d] * __expf(warp_m[w] - M);
        out[d] = from_float<T>(sum / L);
    }
}

template <typename T>
cudaError_t launch_rope(const RopeCacheArgs& a) {
    dim3 grid(static_cast<unsigned>(a.batch), static_cast<unsigned>(a.heads + 2 * a.kv_heads));
    rope_cache_kernel<T><<<grid, 128, 0, a.stream>>>(a);
    return cudaGetLastError();
}

template <typename T>
cudaError_t launch_attention(const DecodeAttentionArgs& a) {
    dim3 grid(static_cast<unsigned>(a.heads), static_cast<unsigned>(a.batch));
    decode_attention_kernel<T><<<grid, 32 * kWarps, 0, a.stream>>>(a);
    return cudaGetLastError();
}

}  // namespace

cudaError_t rope_and_cache_forward(const RopeCacheArgs& a) {
    if (a.batch == 0) return cudaSuccess;
    switch (a.dtype) {
        case DType::F32: return launch_rope<float>(a);
        case DType::F16: return launch_rope<__half>(a);
        case DType::BF16: return launch_rope<__nv_bfloat16>(a);
    }
    return cudaErrorInvalidValue;
}

cudaError_t decode_attention_forward(const DecodeAttentionArgs& a) {
    if (a.batch == 0) return cudaSuccess;
    if (a.head_dim > kDecodeAttentionMaxHeadDim || a.heads % a.kv_heads != 0) return cudaErrorInvalidValue;
    switch (a.dtype) {
        case DType::F32: return launch_attention<float>(a);
        case DType::F16: return launch_attention<__half>(a);
        case DType::BF16: return launch_attention<__nv_bfloat16>(a);
    }
    return cudaErrorInvalidValue;
}

}  // namespace tb::kernels
