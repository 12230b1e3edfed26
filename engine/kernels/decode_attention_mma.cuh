// Tensor-core partial decode attention for bf16/fp16 (sm_80+), included by decode_cuda.cu.
//
// Grouped-query decode is a small matrix product per (row, kv group): the group's query heads
// (16 of them for ChatGLM2) are the 16 rows of an mma.sync m16n8k16 tile, so Q·Kᵀ and P·V run on
// tensor cores with fp32 accumulation, and each key and value is read once for all the heads.
// One warp owns one split of a row's keys (an online softmax over 16 keys per step); the block's
// warps merge their results in shared memory and write (max, sum, unnormalised output) per head
// to the workspace that decode_attention_combine merges over the blocks.
//
// Keys and values skip shared memory: the dot products do not depend on the order of the head
// dimension, so the fragments are loaded straight from global memory in whatever order makes each thread's part of
// a key row contiguous (16-byte loads), and the output dims come out in a known permutation:
//   Q·Kᵀ: logical k (tig*2 + {0,1}, tig*2 + 8 + {0,1}) of step j ↔ dims tig*(HD/4) + j*4 + {0..3};
//   P·V:  logical column n of output tile t ↔ dim n*(HD/8) + t.
// (tig = lane % 4, gid = lane / 4: the PTX fragment layout's "thread in group" and "group".)
#pragma once

#include <cstdint>

#include "kernels/cuda_math.cuh"

namespace tb::kernels::mma_decode {

constexpr int kWarps = 4;     // warps (splits) per block
constexpr int kMinKeys = 64;  // keys per warp at least when the batch fills the GPU (decode_cuda.cu)

template <typename T>
__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    } else {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
#else
    __trap();  // the dispatch (decode_cuda.cu) takes this path only on sm_80+
#endif
}

// Two floats as one register of T pairs, the first in the low half.
template <typename T>
__device__ __forceinline__ uint32_t pack2(float lo, float hi) {
    uint32_t r;
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
        const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
        memcpy(&r, &v, 4);
    } else {
        const __half2 v = __floats2half2_rn(lo, hi);
        memcpy(&r, &v, 4);
    }
    return r;
}

// `words` 32-bit words from p (16-byte aligned) when `valid`, else zeros.
template <int Words>
__device__ __forceinline__ void load_words(uint32_t (&w)[Words], const void* p, bool valid) {
    static_assert(Words % 4 == 0, "whole 16-byte loads");
#pragma unroll
    for (int i = 0; i < Words / 4; ++i) {
        const uint4 v = valid ? reinterpret_cast<const uint4*>(p)[i] : make_uint4(0, 0, 0, 0);
        w[4 * i] = v.x;
        w[4 * i + 1] = v.y;
        w[4 * i + 2] = v.z;
        w[4 * i + 3] = v.w;
    }
}

// grid (kv_heads * m_tiles, batch, splits / kWarps), kWarps * 32 threads; `span` keys per warp's
// split (a multiple of 16); the workspace holds one entry per block (gridDim.z of them per head).
// m_tiles = ceil(group size / 16): heads past the group's end are zero rows.
template <typename T, int HD>
__global__ void __launch_bounds__(kWarps * 32) partial(DecodeAttentionArgs a, int64_t span) {
    constexpr int QW = HD / 8;   // words of a thread's part of a Q or K row (HD/4 elements)
    constexpr int KC = HD / 16;  // k16 steps of Q·Kᵀ
    constexpr int NT = HD / 8;   // n8 tiles of the output; also V elements per thread and key
    const int lane = threadIdx.x % 32, gid = lane / 4, tig = lane % 4;
    const int rep = static_cast<int>(a.heads / a.kv_heads), m_tiles = (rep + 15) / 16;
    const int g = blockIdx.x / m_tiles, mt = blockIdx.x % m_tiles, b = blockIdx.y;
    const int split = blockIdx.z * kWarps + threadIdx.x / 32;
    const int64_t len = a.lengths[b] < a.capacity ? a.lengths[b] : a.capacity;
    const int64_t start = split * span;
    const int64_t end = start + span < len ? start + span : len;
    const int h0 = mt * 16 + gid, h1 = h0 + 8;  // this thread's two heads within the group

    uint32_t q[KC][4];
    {
        const T* Q = static_cast<const T*>(a.q) + (static_cast<int64_t>(b) * a.heads + g * rep) * HD + tig * (HD / 4);
        uint32_t w0[QW], w1[QW];
        load_words(w0, Q + static_cast<int64_t>(h0) * HD, h0 < rep);
        load_words(w1, Q + static_cast<int64_t>(h1) * HD, h1 < rep);
#pragma unroll
        for (int j = 0; j < KC; ++j) {
            q[j][0] = w0[2 * j];
            q[j][1] = w1[2 * j];
            q[j][2] = w0[2 * j + 1];
            q[j][3] = w1[2 * j + 1];
        }
    }
    float acc[NT][4];
#pragma unroll
    for (int t = 0; t < NT; ++t) acc[t][0] = acc[t][1] = acc[t][2] = acc[t][3] = 0.f;
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.f, l1 = 0.f;
    const int64_t base = (static_cast<int64_t>(b) * a.kv_heads + g) * a.capacity;
    const T* K = static_cast<const T*>(a.k_cache) + base * HD;
    const T* V = static_cast<const T*>(a.v_cache) + base * HD;

    for (int64_t kb = start; kb < end; kb += 16) {
        // every load of the step first, so its keys and values arrive in one memory latency
        uint32_t kw[2][QW];
#pragma unroll
        for (int t = 0; t < 2; ++t) {
            const int64_t key = kb + t * 8 + gid;
            load_words(kw[t], K + key * HD + tig * (HD / 4), key < end);
        }
        // values of keys kb + tig*2 + {0, 1} and kb + 8 + tig*2 + {0, 1}, dims gid*NT … gid*NT + NT-1
        uint32_t vw[4][NT / 2];
#pragma unroll
        for (int r = 0; r < 4; ++r) {
            const int64_t key = kb + (r / 2) * 8 + tig * 2 + (r % 2);
            load_words(vw[r], V + key * HD + gid * NT, key < end);
        }
        float s[2][4];
#pragma unroll
        for (int t = 0; t < 2; ++t) {
            s[t][0] = s[t][1] = s[t][2] = s[t][3] = 0.f;
#pragma unroll
            for (int j = 0; j < KC; ++j) mma16816<T>(s[t], q[j], kw[t][2 * j], kw[t][2 * j + 1]);
        }
        // scores of keys kb + t*8 + tig*2 + (e & 1); rows h0 (e < 2) and h1
#pragma unroll
        for (int t = 0; t < 2; ++t)
#pragma unroll
            for (int e = 0; e < 4; ++e)
                s[t][e] = kb + t * 8 + tig * 2 + (e & 1) < end ? s[t][e] * a.scale : -INFINITY;
        float x0 = fmaxf(fmaxf(s[0][0], s[0][1]), fmaxf(s[1][0], s[1][1]));
        float x1 = fmaxf(fmaxf(s[0][2], s[0][3]), fmaxf(s[1][2], s[1][3]));
#pragma unroll
        for (int o = 1; o < 4; o *= 2) {
            x0 = fmaxf(x0, __shfl_xor_sync(0xffffffffu, x0, o));
            x1 = fmaxf(x1, __shfl_xor_sync(0xffffffffu, x1, o));
        }
        const float n0 = fmaxf(m0, x0), n1 = fmaxf(m1, x1);  // finite: key kb < end is in the quad
        const float c0 = __expf(m0 - n0), c1 = __expf(m1 - n1);
#pragma unroll
        for (int t = 0; t < 2; ++t) {
            s[t][0] = __expf(s[t][0] - n0);
            s[t][1] = __expf(s[t][1] - n0);
            s[t][2] = __expf(s[t][2] - n1);
            s[t][3] = __expf(s[t][3] - n1);
        }
        l0 = l0 * c0 + (s[0][0] + s[0][1]) + (s[1][0] + s[1][1]);
        l1 = l1 * c1 + (s[0][2] + s[0][3]) + (s[1][2] + s[1][3]);
        m0 = n0;
        m1 = n1;
        const uint32_t p[4] = {pack2<T>(s[0][0], s[0][1]), pack2<T>(s[0][2], s[0][3]), pack2<T>(s[1][0], s[1][1]),
                               pack2<T>(s[1][2], s[1][3])};
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            acc[t][0] *= c0;
            acc[t][1] *= c0;
            acc[t][2] *= c1;
            acc[t][3] *= c1;
            const unsigned sel = (t & 1) ? 0x7632u : 0x5410u;  // high or low halves of two words
            mma16816<T>(acc[t], p, __byte_perm(vw[0][t / 2], vw[1][t / 2], sel),
                        __byte_perm(vw[2][t / 2], vw[3][t / 2], sel));
        }
    }
#pragma unroll
    for (int o = 1; o < 4; o *= 2) {
        l0 += __shfl_xor_sync(0xffffffffu, l0, o);
        l1 += __shfl_xor_sync(0xffffffffu, l1, o);
    }
    // The block's warps hold consecutive splits of one row and head tile: merge them in shared
    // memory (the combine's formula) and write one coalesced entry per head and block to the
    // workspace [B, heads, gridDim.z, HD + 2]: max, sum, the unnormalised output.
    __shared__ float part[kWarps][16][HD];
    __shared__ float part_m[kWarps][16], part_l[kWarps][16];
    const int warp = threadIdx.x / 32;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        const int row = gid + 8 * r;
        if (tig == 0) {
            part_m[warp][row] = r == 0 ? m0 : m1;
            part_l[warp][row] = r == 0 ? l0 : l1;
        }
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            part[warp][row][(tig * 2) * NT + t] = acc[t][2 * r];
            part[warp][row][(tig * 2 + 1) * NT + t] = acc[t][2 * r + 1];
        }
    }
    __syncthreads();
    const int heads_here = rep - mt * 16 < 16 ? rep - mt * 16 : 16;
    for (int row = 0; row < heads_here; ++row) {
        float M = -INFINITY;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) M = fmaxf(M, part_m[w][row]);
        float* out = a.workspace +
                     ((static_cast<int64_t>(b) * a.heads + g * rep + mt * 16 + row) * gridDim.z + blockIdx.z) * (HD + 2);
        if (M == -INFINITY) {  // no key in this block: the combine gives it weight 0 and skips its output
            if (threadIdx.x == 0) {
                out[0] = M;
                out[1] = 0.f;
            }
            continue;
        }
        float weight[kWarps];
#pragma unroll
        for (int w = 0; w < kWarps; ++w) weight[w] = part_m[w][row] == -INFINITY ? 0.f : __expf(part_m[w][row] - M);
        if (threadIdx.x == 0) {
            float L = 0.f;
#pragma unroll
            for (int w = 0; w < kWarps; ++w) L += part_l[w][row] * weight[w];
            out[0] = M;
            out[1] = L;
        }
        for (int d = threadIdx.x; d < HD; d += kWarps * 32) {
            float sum = 0.f;
#pragma unroll
            for (int w = 0; w < kWarps; ++w) sum += part[w][row][d] * weight[w];
            out[2 + d] = sum;
        }
    }
}

}  // namespace tb::kernels::mma_decode
