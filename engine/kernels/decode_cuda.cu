// Decode-step kernels: RoPE + KV-cache write, and attention over the cache. Torch-free; the
// ATen side (rope_cache.cpp, decode_attention.cpp) checks tensors and holds the references.
#include "kernels/decode_cuda.h"

#include <type_traits>

#include "kernels/cuda_device.h"
#include "kernels/cuda_math.cuh"
#include "kernels/rope_math.cuh"

namespace tb::kernels {
namespace {

// The cache position of row b's new token (clamped into the cache).
__device__ __forceinline__ int64_t cache_position(const RopeCacheArgs& a, int64_t b) {
    const int64_t pos = a.positions[b];
    return pos < 0 ? 0 : (pos > a.capacity - 1 ? a.capacity - 1 : pos);
}

// One block per (row, head role): blockIdx.y < heads → a query head, then kv_heads key heads,
// then kv_heads value heads.
template <typename T>
__global__ void rope_cache_kernel(RopeCacheArgs a) {
    const int64_t b = blockIdx.x;
    const int64_t role = blockIdx.y;
    const int64_t hd = a.head_dim;
    const T* src;
    T* dst;
    bool rotate = true;
    const int64_t pos = cache_position(a, b);
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
    for (int64_t d = threadIdx.x; d < hd; d += blockDim.x)
        dst[d] = from_float<T>(rope_element(src, cs, sn, d, hd, a.rotary_dim, a.table, a.interleaved, rotate));
}

constexpr int kWarps = 8;
constexpr int kMaxSplits = 256;

int tile_for(int64_t head_dim) { return head_dim <= 128 ? 32 : 8; }

// Keys per split: the row's keys are cut into `splits` parts of whole tiles, one block each, so a
// batch of one row still spreads over the GPU (flash-decoding).
__device__ __forceinline__ int64_t split_span(int64_t capacity, int splits, int tile) {
    const int64_t per = (capacity + splits - 1) / splits;
    return (per + tile - 1) / tile * tile;
}

// Partial attention of one (kv group, row, split): every query head of the group against the
// split's keys, which are staged once in shared memory as fp32 (rows padded to head_dim + 4 floats:
// 16-byte aligned, and 8 lanes reading one float4 column of 8 rows hit distinct banks). Warp w
// serves heads w, w + 8, … (HPW of them, state in registers); a key per lane for the scores, four
// dims per lane (G groups of 128 dims) for the values; an online softmax per head. Writes (max,
// sum, unnormalised output) per head and split to the workspace.
template <typename T, int HPW, int G>
__global__ void decode_attention_partial(DecodeAttentionArgs a, int splits, int tile) {
    extern __shared__ float4 smem4[];
    float* smem = reinterpret_cast<float*>(smem4);
    const int g = blockIdx.x, b = blockIdx.y, split = blockIdx.z;
    const int hd = static_cast<int>(a.head_dim), rep = static_cast<int>(a.heads / a.kv_heads), row = hd + 4;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t len = a.lengths[b] < a.capacity ? a.lengths[b] : a.capacity;
    const int64_t span = split_span(a.capacity, splits, tile);
    const int64_t start = split * span;
    const int64_t end = start + span < len ? start + span : len;
    float* qs = smem;                 // [rep, hd]
    float* Ks = qs + rep * hd;        // [tile, hd + 4]
    float* Vs = Ks + tile * row;      // [tile, hd + 4]
    const T* q = static_cast<const T*>(a.q) + (static_cast<int64_t>(b) * a.heads + g * rep) * hd;
    for (int e = threadIdx.x; e < rep * hd; e += blockDim.x) qs[e] = to_float(q[e]) * a.scale;
    const T* K = static_cast<const T*>(a.k_cache) + (static_cast<int64_t>(b) * a.kv_heads + g) * a.capacity * hd;
    const T* V = static_cast<const T*>(a.v_cache) + (static_cast<int64_t>(b) * a.kv_heads + g) * a.capacity * hd;
    float m[HPW], l[HPW];
    float4 acc[HPW][G];
#pragma unroll
    for (int i = 0; i < HPW; ++i) {
        m[i] = -INFINITY;
        l[i] = 0.f;
#pragma unroll
        for (int t = 0; t < G; ++t) acc[i][t] = make_float4(0.f, 0.f, 0.f, 0.f);
    }
    constexpr int per = 16 / sizeof(T);  // elements per 16-byte load (head_dim is a multiple of 8)
    for (int64_t t0 = start; t0 < end; t0 += tile) {
        const int n = static_cast<int>(end - t0 < tile ? end - t0 : tile);
        __syncthreads();  // the previous tile is consumed (and qs written, the first time)
        const uint4* Kt = reinterpret_cast<const uint4*>(K + t0 * hd);
        const uint4* Vt = reinterpret_cast<const uint4*>(V + t0 * hd);
        for (int c = threadIdx.x; c < n * hd / per; c += blockDim.x) {  // rows are contiguous: coalesced
            const int e = c * per, j = e / hd, d = e - j * hd;
            const uint4 kr = Kt[c], vr = Vt[c];
            const T* ke = reinterpret_cast<const T*>(&kr);
            const T* ve = reinterpret_cast<const T*>(&vr);
#pragma unroll
            for (int u = 0; u < per; ++u) {
                Ks[j * row + d + u] = to_float(ke[u]);
                Vs[j * row + d + u] = to_float(ve[u]);
            }
        }
        __syncthreads();
#pragma unroll
        for (int i = 0; i < HPW; ++i) {
            const int h = warp + kWarps * i;
            if (h < rep) {
                const float4* qh = reinterpret_cast<const float4*>(qs + h * hd);
                for (int jb = 0; jb < n; jb += 32) {
                    const int j = jb + lane;
                    float s = -INFINITY;
                    if (j < n) {
                        const float4* kj = reinterpret_cast<const float4*>(Ks + j * row);
                        float4 s4 = make_float4(0.f, 0.f, 0.f, 0.f);  // four chains
                        for (int d4 = 0; d4 < hd / 4; ++d4) {
                            const float4 x = qh[d4], y = kj[d4];
                            s4.x += x.x * y.x;
                            s4.y += x.y * y.y;
                            s4.z += x.z * y.z;
                            s4.w += x.w * y.w;
                        }
                        s = (s4.x + s4.y) + (s4.z + s4.w);
                    }
                    float chunk_max = s;
                    for (int o = 16; o > 0; o /= 2) chunk_max = fmaxf(chunk_max, __shfl_xor_sync(0xffffffffu, chunk_max, o));
                    const float m_new = fmaxf(m[i], chunk_max);  // finite: key jb < n
                    const float p = j < n ? __expf(s - m_new) : 0.f;
                    float p_sum = p;
                    for (int o = 16; o > 0; o /= 2) p_sum += __shfl_xor_sync(0xffffffffu, p_sum, o);
                    const float correction = __expf(m[i] - m_new);
                    l[i] = l[i] * correction + p_sum;
#pragma unroll
                    for (int t = 0; t < G; ++t) {
                        acc[i][t].x *= correction;
                        acc[i][t].y *= correction;
                        acc[i][t].z *= correction;
                        acc[i][t].w *= correction;
                    }
                    const int keys = n - jb < 32 ? n - jb : 32;
                    for (int jj = 0; jj < keys; ++jj) {
                        const float pj = __shfl_sync(0xffffffffu, p, jj);
                        const float4* vj = reinterpret_cast<const float4*>(Vs + (jb + jj) * row);
#pragma unroll
                        for (int t = 0; t < G; ++t) {
                            if (4 * (lane + 32 * t) < hd) {
                                const float4 v = vj[lane + 32 * t];
                                acc[i][t].x += pj * v.x;
                                acc[i][t].y += pj * v.y;
                                acc[i][t].z += pj * v.z;
                                acc[i][t].w += pj * v.w;
                            }
                        }
                    }
                    m[i] = m_new;
                }
            }
        }
    }
    // workspace [B, heads, splits, hd + 2]: max, sum, then the unnormalised output
#pragma unroll
    for (int i = 0; i < HPW; ++i) {
        const int h = warp + kWarps * i;
        if (h < rep) {
            float* w = a.workspace + ((static_cast<int64_t>(b) * a.heads + g * rep + h) * splits + split) * (hd + 2);
            if (lane == 0) {
                w[0] = m[i];
                w[1] = l[i];
            }
#pragma unroll
            for (int t = 0; t < G; ++t) {
                const int d = 4 * (lane + 32 * t);
                if (d < hd) {
                    w[2 + d] = acc[i][t].x;
                    w[3 + d] = acc[i][t].y;
                    w[4 + d] = acc[i][t].z;
                    w[5 + d] = acc[i][t].w;
                }
            }
        }
    }
}

// Merges the splits of one (head, row): out = Σ acc_s e^(m_s - M) / Σ l_s e^(m_s - M). The
// splits' weights are computed once, in parallel, into shared memory.
template <typename T>
__global__ void decode_attention_combine(DecodeAttentionArgs a, int splits) {
    __shared__ float weight[kMaxSplits];
    __shared__ float total;
    const int64_t h = blockIdx.x, b = blockIdx.y;
    const int hd = static_cast<int>(a.head_dim);
    const float* w = a.workspace + (b * a.heads + h) * splits * (hd + 2);
    if (threadIdx.x < 32) {
        float M = -INFINITY;
        for (int s = threadIdx.x; s < splits; s += 32) M = fmaxf(M, w[s * (hd + 2)]);
        for (int o = 16; o > 0; o /= 2) M = fmaxf(M, __shfl_xor_sync(0xffffffffu, M, o));
        float L = 0.f;
        for (int s = threadIdx.x; s < splits; s += 32) {
            const float ms = w[s * (hd + 2)];
            const float e = ms == -INFINITY ? 0.f : __expf(ms - M);
            weight[s] = e;
            L += w[s * (hd + 2) + 1] * e;
        }
        for (int o = 16; o > 0; o /= 2) L += __shfl_xor_sync(0xffffffffu, L, o);
        if (threadIdx.x == 0) total = L;
    }
    __syncthreads();
    T* out = static_cast<T*>(a.out) + (b * a.heads + h) * hd;
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float sum = 0.f;
#pragma unroll 4
        for (int s = 0; s < splits; ++s)
            if (weight[s] != 0.f) sum += w[s * (hd + 2) + 2 + d] * weight[s];  // an empty split's output is not written
        out[d] = from_float<T>(sum / total);
    }
}

bool tensor_cores() {
    static bool sm80 = [] {
        int device = 0, major = 0;
        cudaGetDevice(&device);
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
        return major >= 8;
    }();
    return sm80;
}

}  // namespace
}  // namespace tb::kernels

#include "kernels/decode_attention_mma.cuh"

namespace tb::kernels {
namespace {

// The tensor-core kernel serves half types with head_dim 64 or 128 on sm_80+; fp32 and other head
// sizes take the fp32 kernel above.
bool uses_mma(const DecodeAttentionArgs& a) {
    return a.dtype != DType::F32 && (a.head_dim == 64 || a.head_dim == 128) && tensor_cores();
}

// Splits (one warp each) for the tensor-core kernel: about 16 warps per SM over the batch's
// (row, group, head tile) pairs, a whole number of blocks, and enough keys per warp that the
// blocks' fixed cost (loading Q, merging in shared memory, writing the workspace) stays small:
// 64 keys when the pairs fill half the SMs or more (ChatGLM2 at batch 64: 128 pairs), else 16
// (batch 1 and 8: more warps in flight). Measured on an H100, ChatGLM2-6B shape, prompt 256: 64 → 16 keys made batch 64
// 10,538 → 9,718 tokens/s and batch 8 1,424 → 1,444 (two-launch kernel); with the fused kernel, 32 or
// 64 keys at every batch gave 191 / 1,498 / 11,100 and 189 / 1,492 / 11,320 tokens/s at batch
// 1 / 8 / 64 against 191 / 1,497 / 11,286 for this choice (2026-11-26).
int mma_splits(const DecodeAttentionArgs& a) {
    const int64_t rep = a.heads / a.kv_heads;
    const int64_t pairs = a.batch * a.kv_heads * ((rep + 15) / 16);
    int64_t splits = (16 * sm_count() + pairs - 1) / pairs;
    const int64_t min_keys = 2 * pairs >= sm_count() ? mma_decode::kMinKeys : 16;
    const int64_t most = (a.capacity + min_keys - 1) / min_keys;
    if (splits > most) splits = most;
    splits = (splits + mma_decode::kWarps - 1) / mma_decode::kWarps * mma_decode::kWarps;
    if (splits > kMaxSplits) splits = kMaxSplits / mma_decode::kWarps * mma_decode::kWarps;
    return static_cast<int>(splits < mma_decode::kWarps ? mma_decode::kWarps : splits);
}

template <typename T, int Rope>
cudaError_t launch_attention_mma(const DecodeAttentionArgs& a, const RopeCacheArgs& r) {
    const int splits = mma_splits(a), blocks = splits / mma_decode::kWarps;
    if (blocks > 1 && !a.counters) return cudaErrorInvalidValue;
    const int64_t rep = a.heads / a.kv_heads;
    const int64_t span = ((a.capacity + splits - 1) / splits + 15) / 16 * 16;
    dim3 grid(static_cast<unsigned>(a.kv_heads * ((rep + 15) / 16)), static_cast<unsigned>(a.batch),
              static_cast<unsigned>(blocks));
    if (a.head_dim == 128)
        mma_decode::attend<T, 128, Rope><<<grid, mma_decode::kWarps * 32, 0, a.stream>>>(a, r, span);
    else
        mma_decode::attend<T, 64, Rope><<<grid, mma_decode::kWarps * 32, 0, a.stream>>>(a, r, span);
    return cudaGetLastError();
}

template <typename T>
cudaError_t launch_rope_attention_mma(const DecodeAttentionArgs& a, const RopeCacheArgs& r) {
    return r.interleaved ? launch_attention_mma<T, mma_decode::kRopePairs>(a, r)
                         : launch_attention_mma<T, mma_decode::kRopeHalf>(a, r);
}

// Workspace entries per (row, head): one per block of the tensor-core kernel, one per split here.
int splits_for(const DecodeAttentionArgs& a) {
    if (uses_mma(a)) return mma_splits(a) / mma_decode::kWarps;
    const int tile = tile_for(a.head_dim);
    const int64_t tiles = (a.capacity + tile - 1) / tile;
    const int64_t blocks = a.kv_heads * a.batch;
    int64_t splits = (2 * sm_count() + blocks - 1) / blocks;
    if (splits > tiles) splits = tiles;
    if (splits > kMaxSplits) splits = kMaxSplits;
    return static_cast<int>(splits < 1 ? 1 : splits);
}

template <typename T>
cudaError_t launch_rope(const RopeCacheArgs& a) {
    dim3 grid(static_cast<unsigned>(a.batch), static_cast<unsigned>(a.heads + 2 * a.kv_heads));
    rope_cache_kernel<T><<<grid, 128, 0, a.stream>>>(a);
    return cudaGetLastError();
}

template <typename T, int HPW, int G>
cudaError_t launch_partial(const DecodeAttentionArgs& a, int splits, int tile, size_t smem) {
    dim3 grid(static_cast<unsigned>(a.kv_heads), static_cast<unsigned>(a.batch), static_cast<unsigned>(splits));
    decode_attention_partial<T, HPW, G><<<grid, 32 * kWarps, smem, a.stream>>>(a, splits, tile);
    return cudaGetLastError();
}

template <typename T, int G>
cudaError_t launch_partial_for_group(const DecodeAttentionArgs& a, int splits, int tile, size_t smem) {
    const int64_t per_warp = (a.heads / a.kv_heads + kWarps - 1) / kWarps;
    if (per_warp <= 1) return launch_partial<T, 1, G>(a, splits, tile, smem);
    if (per_warp <= 2) return launch_partial<T, 2, G>(a, splits, tile, smem);
    if (per_warp <= 4) return launch_partial<T, 4, G>(a, splits, tile, smem);
    return launch_partial<T, 8, G>(a, splits, tile, smem);
}

template <typename T>
cudaError_t launch_attention(const DecodeAttentionArgs& a) {
    if constexpr (!std::is_same_v<T, float>) {
        if (uses_mma(a)) return launch_attention_mma<T, mma_decode::kNoRope>(a, RopeCacheArgs{});
    }
    const int splits = splits_for(a), tile = tile_for(a.head_dim);
    const int64_t rep = a.heads / a.kv_heads;
    const size_t smem = sizeof(float) * static_cast<size_t>(rep * a.head_dim + 2 * tile * (a.head_dim + 4));
    const cudaError_t err = a.head_dim <= 128 ? launch_partial_for_group<T, 1>(a, splits, tile, smem)
                                              : launch_partial_for_group<T, 2>(a, splits, tile, smem);
    if (err != cudaSuccess) return err;
    dim3 grid2(static_cast<unsigned>(a.heads), static_cast<unsigned>(a.batch));
    decode_attention_combine<T><<<grid2, 128, 0, a.stream>>>(a, splits);
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

bool decode_attention_fits(const DecodeAttentionArgs& a) {
    if (a.head_dim > kDecodeAttentionMaxHeadDim || a.kv_heads < 1 || a.heads % a.kv_heads != 0 ||
        a.heads / a.kv_heads > kDecodeAttentionMaxGroupSize)
        return false;
    if (uses_mma(a)) return true;  // no shared memory
    const int64_t smem = 4 * (a.heads / a.kv_heads * a.head_dim + 2 * tile_for(a.head_dim) * (a.head_dim + 4));
    return a.head_dim % 8 == 0 && smem <= 48 * 1024;
}

int64_t decode_attention_counters(const DecodeAttentionArgs& a) { return uses_mma(a) ? a.batch * a.heads : 0; }

bool rope_cache_attention_fits(const RopeCacheArgs& r, const DecodeAttentionArgs& a) {
    return decode_attention_fits(a) && uses_mma(a) && r.dtype == a.dtype && r.batch == a.batch && r.heads == a.heads &&
           r.kv_heads == a.kv_heads && r.head_dim == a.head_dim && r.capacity == a.capacity &&
           r.k_cache == a.k_cache && r.v_cache == a.v_cache;
}

cudaError_t rope_cache_attention_forward(const RopeCacheArgs& r, const DecodeAttentionArgs& a) {
    if (a.batch == 0) return cudaSuccess;
    if (!rope_cache_attention_fits(r, a) || !a.workspace) return cudaErrorInvalidValue;
    if (a.dtype == DType::F16) return launch_rope_attention_mma<__half>(a, r);
    return launch_rope_attention_mma<__nv_bfloat16>(a, r);
}

int64_t decode_attention_workspace(const DecodeAttentionArgs& a) {
    return a.batch * a.heads * splits_for(a) * (a.head_dim + 2);
}

cudaError_t decode_attention_forward(const DecodeAttentionArgs& a) {
    if (a.batch == 0) return cudaSuccess;
    if (!decode_attention_fits(a) || !a.workspace) return cudaErrorInvalidValue;
    switch (a.dtype) {
        case DType::F32: return launch_attention<float>(a);
        case DType::F16: return launch_attention<__half>(a);
        case DType::BF16: return launch_attention<__nv_bfloat16>(a);
    }
    return cudaErrorInvalidValue;
}

}  // namespace tb::kernels
