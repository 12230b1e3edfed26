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
#include "kernels/mma16816.cuh"

namespace tb::kernels::mma_decode {

constexpr int kWarps = 4;     // warps (splits) per block
constexpr int kMinKeys = 64;  // keys per warp at least when the batch fills the GPU (decode_cuda.cu)

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

// Eight consecutive elements d0 … d0+7 of a head's row (16-byte aligned), as floats.
template <typename T>
__device__ __forceinline__ void load8(float (&x)[8], const T* p) {
    const uint4 raw = *reinterpret_cast<const uint4*>(p);
    const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
    for (int j = 0; j < 8; ++j) x[j] = to_float(e[j]);
}
template <typename T>
__device__ __forceinline__ void store8(T* p, const float (&y)[8]) {
    uint4 raw;
    T* e = reinterpret_cast<T*>(&raw);
#pragma unroll
    for (int j = 0; j < 8; ++j) e[j] = from_float<T>(y[j]);
    *reinterpret_cast<uint4*>(p) = raw;
}

// How the kernel rotates: not at all (the queries come rotated), ChatGLM's pairs (2i, 2i+1) of the
// first rotary_dim dims, or rotate-half over the head.
enum RopeKind : int { kNoRope = 0, kRopePairs = 1, kRopeHalf = 2 };

// Elements d0 … d0+7 of one head's row after RoPE when `rotate` (else as they are): rope_element's
// arithmetic on a 16-byte chunk (a pair's partner is in the same chunk; rotate-half's is the chunk
// half a head away), every load before any use.
template <typename T, int HD, int Kind>
__device__ __forceinline__ void rope_chunk(float (&y)[8], const T* src, const T* cs, const T* sn, int d0, bool rotate,
                                           const RopeCacheArgs& r) {
    float x[8], o[8], c[8], s[8];
    load8(x, src + d0);
    if constexpr (Kind == kRopePairs) {
#pragma unroll
        for (int j = 0; j < 8; ++j) {
            const int64_t i = (d0 + j) / 2, at = i < r.table ? i : r.table - 1;
            o[j] = x[j ^ 1];
            c[j] = to_float(cs[at]);
            s[j] = to_float(sn[at]);
        }
    } else {
        load8(o, src + (d0 < HD / 2 ? d0 + HD / 2 : d0 - HD / 2));
#pragma unroll
        for (int j = 0; j < 8; ++j) {
            c[j] = to_float(cs[d0 + j]);
            s[j] = to_float(sn[d0 + j]);
        }
    }
#pragma unroll
    for (int j = 0; j < 8; ++j) {
        const int d = d0 + j;
        const bool minus = Kind == kRopePairs ? (d % 2 == 0) : (d < HD / 2);
        const float xc = rounded<T>(x[j] * c[j]), os = rounded<T>(o[j] * s[j]);
        const float v = rounded<T>(minus ? xc - os : xc + os);
        y[j] = rotate && (Kind == kRopeHalf || d < r.rotary_dim) ? v : x[j];
    }
}

// grid (kv_heads * m_tiles, batch, splits / kWarps), kWarps * 32 threads; `span` keys per warp's
// split (a multiple of 16). m_tiles = ceil(group size / 16): heads past the group's end are zero rows.
// Rope (RopeKind): the queries come raw from r.q and are rotated here, and the block whose keys include the
// row's new position rotates and writes its key and value into the cache first (rope_cache_kernel's
// work, fused). One block per head tile: the output directly. Several: each writes its unnormalised
// output per head to the workspace [B, heads, gridDim.z, HD] and (max, sum) to the part after it
// [B, heads, gridDim.z, 2], and counts itself in a.counters; the last to arrive merges every
// block's entry, writes the output and resets the counter to zero for the next launch.
// The code is kept small (rolled loops, 16-byte accesses): each step's weights evict it from L2,
// and an unrolled version spent most of its time fetching instructions.
template <typename T, int HD, int Rope>
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

    // The query tile in 8-element chunks (rows past the group's end zero); with RoPE, the block
    // whose keys include the new position also writes that key and value (chunk rows 16 and 17).
    // Every head tile's block of that split does: the same bits, each reading them only after its
    // own write.
    constexpr int kChunks = HD / 8;
    T* qs = reinterpret_cast<T*>(&sm.q[0][0]);
    const T *Q, *cs = nullptr, *sn = nullptr;
    int chunks = 16 * kChunks;
    int64_t at = 0;  // the new key's offset in the cache
    if constexpr (Rope != kNoRope) {
        cs = static_cast<const T*>(r.cos) + b * r.table;
        sn = static_cast<const T*>(r.sin) + b * r.table;
        Q = static_cast<const T*>(r.q) + b * r.q_stride + (g * rep + mt * 16) * HD;
        const int64_t pos = cache_position(r, b);
        at = ((static_cast<int64_t>(b) * a.kv_heads + g) * a.capacity + pos) * HD;
        if (pos >= block_start && pos < block_start + kWarps * span) chunks += 2 * kChunks;
    } else {
        Q = static_cast<const T*>(a.q) + head0 * HD;
    }
    for (int c = threadIdx.x; c < chunks; c += blockDim.x) {
        const int row = c / kChunks, d0 = (c % kChunks) * 8;
        const T* src = row < 16    ? Q + (row < heads_here ? row : heads_here - 1) * HD
                       : row == 16 ? static_cast<const T*>(r.k) + b * r.k_stride + g * HD
                                   : static_cast<const T*>(r.v) + b * r.v_stride + g * HD;
        float y[8];
        if constexpr (Rope != kNoRope) rope_chunk<T, HD, Rope>(y, src, cs, sn, d0, row != 17, r);
        else load8(y, src + d0);
        if (row < 16) {
            if (row >= heads_here)
                for (int j = 0; j < 8; ++j) y[j] = 0.f;
            store8(qs + row * 2 * Smem<HD>::kQRow + d0, y);
        } else {
            store8(static_cast<T*>(row == 16 ? r.k_cache : r.v_cache) + at + d0, y);
        }
    }
    __syncthreads();  // the query tile and (with RoPE) the new key and value are written
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
    // each head's merge weights over the warps, then the (head, dim) outputs
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
    const int Z = static_cast<int>(gridDim.z);
    float* outs = a.workspace;                                      // [B, heads, Z, HD]
    float* stats = a.workspace + a.batch * a.heads * Z * HD;        // [B, heads, Z, 2]
    if (!alone && threadIdx.x < heads_here) {
        float* st = stats + ((head0 + threadIdx.x) * Z + blockIdx.z) * 2;
        st[0] = sm.row_m[threadIdx.x];
        st[1] = sm.row_l[threadIdx.x];
    }
    for (int e = threadIdx.x; e < heads_here * HD; e += blockDim.x) {
        const int row = e / HD, d = e % HD;
        if (sm.row_m[row] == -INFINITY) continue;  // an empty block's output is not written
        float sum = 0.f;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) sum += (&sm.part[w][0][0])[merged_index<HD>(row, d)] * sm.warp_weight[row][w];
        if (alone) static_cast<T*>(a.out)[(head0 + row) * HD + d] = from_float<T>(sum / sm.row_l[row]);
        else outs[((head0 + row) * Z + blockIdx.z) * HD + d] = sum;
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
    // unlike __ldcg's strong loads, the compiler keeps several in flight).
    __threadfence();
    for (int e = threadIdx.x; e < heads_here * Z; e += blockDim.x) {  // sm.part is no longer read
        const float2 st = *reinterpret_cast<const float2*>(stats + ((head0 + e / Z) * Z + e % Z) * 2);
        sm.blocks.m[e / Z][e % Z] = st.x;
        sm.blocks.l[e / Z][e % Z] = st.y;
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
    // the blocks' outputs, four dims per load: CH loads per thread and block (rows past the tile
    // read a valid row and are not written; an empty block's output is not written: weight 0
    // selects 0 instead)
    constexpr int CH = 16 * HD / 4 / (kWarps * 32);
    float4 sum[CH];
#pragma unroll
    for (int k = 0; k < CH; ++k) sum[k] = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int z = 0; z < Z; ++z) {
#pragma unroll
        for (int k = 0; k < CH; ++k) {
            const int e = (threadIdx.x + k * kWarps * 32) * 4, row = e / HD, d = e % HD;
            const int in = row < heads_here ? row : heads_here - 1;
            const float4 v = *reinterpret_cast<const float4*>(outs + ((head0 + in) * Z + z) * HD + d);
            const float w = row < heads_here ? sm.blocks.m[in][z] : 0.f;
            if (w != 0.f) {  // a select: the load above is unconditional
                sum[k].x += v.x * w;
                sum[k].y += v.y * w;
                sum[k].z += v.z * w;
                sum[k].w += v.w * w;
            }
        }
    }
#pragma unroll
    for (int k = 0; k < CH; ++k) {
        const int e = (threadIdx.x + k * kWarps * 32) * 4, row = e / HD, d = e % HD;
        if (row >= heads_here) continue;
        const float inv = 1.f / sm.row_l[row];  // one division per head: IEEE division is a long code path
        T* o = static_cast<T*>(a.out) + (head0 + row) * HD + d;
        o[0] = from_float<T>(sum[k].x * inv);
        o[1] = from_float<T>(sum[k].y * inv);
        o[2] = from_float<T>(sum[k].z * inv);
        o[3] = from_float<T>(sum[k].w * inv);
    }
}

}  // namespace tb::kernels::mma_decode
