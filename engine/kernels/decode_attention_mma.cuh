// Tensor-core partial decode attention for bf16/fp16 (sm_80+), included by decode_cuda.cu.
//
// Grouped-query decode is a small matrix product per (row, kv group): the group's query heads
// (16 of them for ChatGLM2) are the 16 rows of an mma.sync m16n8k16 tile, so Q·Kᵀ and P·V run on
// tensor cores with fp32 accumulation, and each key and value is read once for all the heads.
// One warp owns one split of a row's keys (an online softmax over 16 keys per step); the block's
// warps merge their results in shared memory, and the blocks of a head tile merge theirs in the
// last of them to finish (no second launch).
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

// Shared memory of one block, reused phase by phase: the query tile (staged once, read into
// fragments), the warps' merge, and the combine in the block that finishes a head tile last.
// A merged row keeps each "thread in group" part (HD/4 dims) kTig floats apart and rows kRow ≡ 1
// (mod 32) floats apart, so the fragment stores of a warp (8 rows × 4 parts) hit 32 distinct banks.
template <int HD>
struct Smem {
    static constexpr int kQRow = HD / 2 + 4;  // 32-bit words per staged query row (16-byte aligned)
    static constexpr int kTig = HD / 4 + 8;
    static constexpr int kRow = 4 * kTig + 1;
    static constexpr int kMaxBlocks = kMaxSplits / kWarps;
    struct Blocks {
        float m[16][kMaxBlocks], l[16][kMaxBlocks];  // per head and block: max, sum; then the weight in m
    };
    union {
        uint32_t q[16][kQRow];
        float part[kWarps][16][kRow];
        Blocks blocks;
    };
    float part_m[kWarps][16], part_l[kWarps][16], warp_weight[16][kWarps], row_m[16], row_l[16];
    bool last;
};

template <int HD>
__device__ __forceinline__ int merged_index(int row, int dim) {
    return row * Smem<HD>::kRow + (dim / (HD / 4)) * Smem<HD>::kTig + dim % (HD / 4);
}

// grid (kv_heads * m_tiles, batch, splits / kWarps), kWarps * 32 threads; `span` keys per warp's
// split (a multiple of 16). m_tiles = ceil(group size / 16): heads past the group's end are zero rows.
// FuseRope: the queries come raw from r.q and are rotated here, and the block whose keys include the
// row's new position rotates and writes its key and value into the cache first (rope_cache_kernel's
// work, fused). One block per head tile: the output directly. Several: each writes (max, sum,
// unnormalised output) per head to the workspace [B, heads, gridDim.z, HD + 2] and counts itself
// in a.counters; the last to arrive merges every block's entry, writes the output and resets the
// counter to zero for the next launch.
template <typename T, int HD, bool FuseRope>
__global__ void __launch_bounds__(kWarps * 32) attend(DecodeAttentionArgs a, RopeCacheArgs r, int64_t span) {
    constexpr int QW = HD / 8;   // words of a thread's part of a Q or K row (HD/4 elements)
    constexpr int KC = HD / 16;  // k16 steps of Q·Kᵀ
    constexpr int NT = HD / 8;   // n8 tiles of the output; also V elements per thread and key
    __shared__ Smem<HD> sm;
    const int lane = threadIdx.x % 32, gid = lane / 4, tig = lane % 4, warp = threadIdx.x / 32;
    const int rep = static_cast<int>(a.heads / a.kv_heads), m_tiles = (rep + 15) / 16;
    const int g = blockIdx.x / m_tiles, mt = blockIdx.x % m_tiles, b = blockIdx.y;
    const int heads_here = rep - mt * 16 < 16 ? rep - mt * 16 : 16;
    const int64_t len = a.lengths[b] < a.capacity ? a.lengths[b] : a.capacity;
    const int64_t block_start = blockIdx.z * kWarps * span;
    const int64_t start = block_start + warp * span;
    const int64_t end = start + span < len ? start + span : len;
    const int64_t head0 = static_cast<int64_t>(b) * a.heads + g * rep + mt * 16;  // the tile's first head

    // the query tile, rows past the group's end zero: every load first (P elements per thread),
    // then the shared-memory stores
    constexpr int P = 16 * HD / (kWarps * 32);
    float y[P];
    if constexpr (FuseRope) {
        const T* cs = static_cast<const T*>(r.cos) + b * r.table;
        const T* sn = static_cast<const T*>(r.sin) + b * r.table;
        const T* Q = static_cast<const T*>(r.q) + b * r.q_stride + (g * rep + mt * 16) * HD;
#pragma unroll
        for (int k = 0; k < P; ++k) {
            const int e = threadIdx.x + k * kWarps * 32, i = e / HD, d = e % HD;
            const float v = rope_element(Q + (i < heads_here ? i : heads_here - 1) * HD, cs, sn, d, HD, r.rotary_dim, r.table,
                                         r.interleaved, true);
            y[k] = i < heads_here ? v : 0.f;
        }
        // the block whose keys include the new position writes its key and value (every head tile's
        // block does: the same bits, and each reads them only after its own write)
        const int64_t pos = cache_position(r, b);
        if (pos >= block_start && pos < block_start + kWarps * span) {
            const int64_t at = ((static_cast<int64_t>(b) * a.kv_heads + g) * a.capacity + pos) * HD;
            const T* k = static_cast<const T*>(r.k) + b * r.k_stride + g * HD;
            const T* v = static_cast<const T*>(r.v) + b * r.v_stride + g * HD;
            for (int d = threadIdx.x; d < HD; d += blockDim.x) {
                static_cast<T*>(r.k_cache)[at + d] =
                    from_float<T>(rope_element(k, cs, sn, d, HD, r.rotary_dim, r.table, r.interleaved, true));
                static_cast<T*>(r.v_cache)[at + d] = v[d];
            }
        }
    } else {
        const T* Q = static_cast<const T*>(a.q) + head0 * HD;
#pragma unroll
        for (int k = 0; k < P; ++k) {
            const int e = threadIdx.x + k * kWarps * 32, i = e / HD, d = e % HD;
            const float v = to_float(Q[(i < heads_here ? i : heads_here - 1) * HD + d]);
            y[k] = i < heads_here ? v : 0.f;
        }
    }
    T* qs = reinterpret_cast<T*>(&sm.q[0][0]);
#pragma unroll
    for (int k = 0; k < P; ++k) {
        const int e = threadIdx.x + k * kWarps * 32, i = e / HD, d = e % HD;
        qs[i * 2 * Smem<HD>::kQRow + d] = from_float<T>(y[k]);
    }
    __syncthreads();  // the query tile and (FuseRope) the new key and value are written
    uint32_t q[KC][4];
#pragma unroll
    for (int j = 0; j < KC; ++j) {
        q[j][0] = sm.q[gid][tig * QW + 2 * j];
        q[j][1] = sm.q[gid + 8][tig * QW + 2 * j];
        q[j][2] = sm.q[gid][tig * QW + 2 * j + 1];
        q[j][3] = sm.q[gid + 8][tig * QW + 2 * j + 1];
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
        for (int r4 = 0; r4 < 4; ++r4) {
            const int64_t key = kb + (r4 / 2) * 8 + tig * 2 + (r4 % 2);
            load_words(vw[r4], V + key * HD + gid * NT, key < end);
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
    // memory (the combine's formula).
    __syncthreads();  // every warp has read its query fragments: sm.part may overwrite sm.q
#pragma unroll
    for (int rr = 0; rr < 2; ++rr) {
        const int row = gid + 8 * rr;
        if (tig == 0) {
            sm.part_m[warp][row] = rr == 0 ? m0 : m1;
            sm.part_l[warp][row] = rr == 0 ? l0 : l1;
        }
        float* part = &sm.part[warp][0][0];
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            part[merged_index<HD>(row, (tig * 2) * NT + t)] = acc[t][2 * rr];
            part[merged_index<HD>(row, (tig * 2 + 1) * NT + t)] = acc[t][2 * rr + 1];
        }
    }
    __syncthreads();
    // each head's merge weights over the warps, then P (head, dim) outputs per thread
    if (threadIdx.x < heads_here) {
        const int row = threadIdx.x;
        float M = -INFINITY, L = 0.f;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) M = fmaxf(M, sm.part_m[w][row]);
#pragma unroll
        for (int w = 0; w < kWarps; ++w) {
            const float weight = sm.part_m[w][row] == -INFINITY ? 0.f : __expf(sm.part_m[w][row] - M);
            sm.warp_weight[row][w] = weight;
            L += sm.part_l[w][row] * weight;
        }
        sm.row_m[row] = M;  // -inf: no key in this block (never when alone): the combine gives it weight 0
        sm.row_l[row] = L;
    }
    __syncthreads();
    const bool alone = gridDim.z == 1;
    auto entry = [&](int row, int z) { return a.workspace + ((head0 + row) * gridDim.z + z) * (HD + 2); };
    if (!alone && threadIdx.x < heads_here) {
        entry(threadIdx.x, blockIdx.z)[0] = sm.row_m[threadIdx.x];
        entry(threadIdx.x, blockIdx.z)[1] = sm.row_l[threadIdx.x];
    }
#pragma unroll
    for (int k = 0; k < P; ++k) {
        const int e = threadIdx.x + k * kWarps * 32, row = e / HD, d = e % HD;
        if (row >= heads_here || sm.row_m[row] == -INFINITY) continue;  // an empty block's output is not written
        float sum = 0.f;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) sum += (&sm.part[w][0][0])[merged_index<HD>(row, d)] * sm.warp_weight[row][w];
        if (alone) static_cast<T*>(a.out)[(head0 + row) * HD + d] = from_float<T>(sum / sm.row_l[row]);
        else entry(row, blockIdx.z)[2 + d] = sum;
    }
    if (alone) return;

    // the last block of this head tile to finish merges the blocks' entries (threadFenceReduction)
    __threadfence();  // this block's entries are visible device-wide before it counts itself
    __syncthreads();
    if (threadIdx.x == 0) {
        unsigned* counter = a.counters + static_cast<int64_t>(b) * gridDim.x + blockIdx.x;
        sm.last = atomicAdd(counter, 1u) == gridDim.z - 1;
        if (sm.last) *counter = 0;  // every block of this launch has counted: ready for the next launch
    }
    __syncthreads();
    if (!sm.last) return;
    // The fence also invalidates this SM's L1: plain loads see the other blocks' entries (and,
    // unlike __ldcg's strong loads, the compiler keeps many in flight).
    __threadfence();
    const int Z = static_cast<int>(gridDim.z);
    constexpr int G = 16 * Smem<HD>::kMaxBlocks / (kWarps * 32);  // (head, block) entries per thread at most
    float em[G], el[G];
#pragma unroll
    for (int k = 0; k < G; ++k) {  // every load first (clamped in-range addresses), then the stores
        const int e = threadIdx.x + k * kWarps * 32, in = e < heads_here * Z ? e : 0;
        em[k] = entry(in / Z, in % Z)[0];
        el[k] = entry(in / Z, in % Z)[1];
    }
#pragma unroll
    for (int k = 0; k < G; ++k) {  // sm.part is no longer read
        const int e = threadIdx.x + k * kWarps * 32;
        if (e < heads_here * Z) {
            sm.blocks.m[e / Z][e % Z] = em[k];
            sm.blocks.l[e / Z][e % Z] = el[k];
        }
    }
    __syncthreads();
    if (threadIdx.x < heads_here) {
        const int row = threadIdx.x;
        float M = -INFINITY, L = 0.f;
        for (int z = 0; z < Z; ++z) M = fmaxf(M, sm.blocks.m[row][z]);
        for (int z = 0; z < Z; ++z) {
            const float ms = sm.blocks.m[row][z];
            const float w = ms == -INFINITY ? 0.f : __expf(ms - M);
            sm.blocks.m[row][z] = w;  // now the block's weight
            L += sm.blocks.l[row][z] * w;
        }
        sm.row_l[row] = L;
    }
    __syncthreads();
    // the blocks' outputs: unconditional loads (an empty block's output is not written: its
    // weight 0 selects 0 instead), P per thread and block, blocks unrolled by 4
    float sum[P];
#pragma unroll
    for (int k = 0; k < P; ++k) sum[k] = 0.f;
#pragma unroll 4
    for (int z = 0; z < Z; ++z) {
#pragma unroll
        for (int k = 0; k < P; ++k) {
            const int e = threadIdx.x + k * kWarps * 32, row = e / HD, d = e % HD;
            const int in = row < heads_here ? row : heads_here - 1;
            const float v = entry(in, z)[2 + d];
            const float w = row < heads_here ? sm.blocks.m[in][z] : 0.f;
            sum[k] += w != 0.f ? v * w : 0.f;
        }
    }
#pragma unroll
    for (int k = 0; k < P; ++k) {
        const int e = threadIdx.x + k * kWarps * 32, row = e / HD, d = e % HD;
        if (row < heads_here) static_cast<T*>(a.out)[(head0 + row) * HD + d] = from_float<T>(sum[k] / sm.row_l[row]);
    }
}

}  // namespace tb::kernels::mma_decode
