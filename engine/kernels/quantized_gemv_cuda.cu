// y = x · Wᵀ for a few rows of x (decode) with W in NF4 or int8, the dequantization in registers.
// Each warp owns a group of R output rows (warps stride over the groups; no block-wide reduction):
// its lanes stride over the row in 16-byte chunks of W (32 NF4 or 16 int8 values; one NF4 block
// scale per chunk), U chunks per lane for every row of the group loaded before any is used (U·R
// 16-byte requests in flight per lane), each multiplied by the matching slice of x (all M rows of
// x share one weight load), accumulated in fp32 and summed across the warp with shuffles.
// NF4 values come from a table in shared memory with one copy per lane (entry × 32 + lane: every
// lane reads its own bank, so the lookups never conflict): for fp16/bf16 a byte → its two codes as
// a half2 (the codes rounded to fp16, ≤ 2⁻¹¹ relative), for fp32 a nibble → its fp32 code. The
// first weights are requested before the table is built, so building it hides under that latency.
// fp16/bf16 NF4 with whole 64-blocks per row (every model's shapes) takes the tensor-core kernel
// below instead: fewer instructions per weight, and up to 8 rows of x in one pass over the weights.
// int8 values become floats through the exponent trick (byte into a float's mantissa, one subtract)
// rather than I2F, whose conversion pipe runs at an eighth of the FMA rate and bound the kernel.
#include "kernels/quantized_gemv_cuda.h"

#include <algorithm>
#include <type_traits>

#include "kernels/cuda_math.cuh"
#include "kernels/mma16816.cuh"

namespace tb::kernels {
namespace {

constexpr int kThreads = 256, kWarps = kThreads / 32;

// A chunk of x kept as loaded (16-byte words, converted when used: fewer registers than floats).
template <typename T, int N>
struct XChunk {
    static constexpr int kWords = N * sizeof(T) / 16;
    uint4 w[kWords];
    __device__ __forceinline__ void load(const T* p) {
#pragma unroll
        for (int i = 0; i < kWords; ++i) w[i] = __ldg(reinterpret_cast<const uint4*>(p) + i);
    }
    __device__ __forceinline__ float operator[](int i) const { return to_float<T>(reinterpret_cast<const T*>(w)[i]); }
};

// y[m, row] = v (+ bias[row]) (+ y[m, row]), rounded once.
template <typename T>
__device__ __forceinline__ void store(const QuantizedGemvArgs& a, int m, int64_t row, float v) {
    T* y = static_cast<T*>(a.y) + m * a.out + row;
    if (a.bias) v += to_float<T>(static_cast<const T*>(a.bias)[row]);
    *y = from_float<T>(a.accumulate ? v + to_float<T>(*y) : v);
}

// acc[m][r] summed over the warp, scaled per row (int8) and stored by lane 0.
template <typename T, int M, int R>
__device__ __forceinline__ void reduce_and_store(float (&acc)[M][R], const QuantizedGemvArgs& a, int64_t row0, bool int8) {
    const int lane = threadIdx.x % 32;
#pragma unroll
    for (int m = 0; m < M; ++m)
#pragma unroll
        for (int r = 0; r < R; ++r) {
            float v = acc[m][r];
#pragma unroll
            for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
            const int64_t row = row0 + r;
            if (lane == 0 && row < a.out) {
                if (int8) v = __fmul_rn(v, __fmul_rn(a.scb[row], 1.0f / 127.0f));
                store<T>(a, m, row, v);
            }
        }
}

template <typename T>
struct Nf4Table {
    static constexpr bool kHalf = !std::is_same_v<T, float>;
    // fp16/bf16: byte → half2 of its two codes; fp32: nibble → code
    using Entry = std::conditional_t<kHalf, __half2, float>;
    static constexpr int kEntries = kHalf ? 256 : 16;
};

// The U·R weight chunks of one step of a warp's group and their scales.
template <int U, int R>
struct Nf4Loads {
    uint4 raw[U][R];
    float scale[U][R];     // the plain scales, or with double quantization:
    uint8_t code8[U][R];   // the 8-bit code of the scale and
    float scale2[U][R];    // its block's second-level scale, combined when the chunk is done
    __device__ __forceinline__ void load(const QuantizedGemvArgs& a, int64_t row0, int64_t c0, int64_t chunks) {
#pragma unroll
        for (int u = 0; u < U; ++u) {
            const int64_t c = c0 + u * 32;
#pragma unroll
            for (int r = 0; r < R; ++r) {
                const int64_t row = row0 + r;
                raw[u][r] = make_uint4(0, 0, 0, 0);  // past the row's end or the last row: zeros, unused
                code8[u][r] = 0;
                scale[u][r] = scale2[u][r] = 0;
                if (c >= chunks || row >= a.out) continue;
                const int64_t first = row * a.in + c * 32;  // element index: one 64-block per chunk
                raw[u][r] = __ldg(reinterpret_cast<const uint4*>(a.nf4.packed + first / 2));
                const int64_t block = first / 64;
                if (a.nf4.absmax) {
                    scale[u][r] = __ldg(a.nf4.absmax + block);
                } else {
                    code8[u][r] = __ldg(a.nf4.qabsmax + block);
                    scale2[u][r] = __ldg(a.nf4.absmax2 + block / 256);
                }
            }
        }
    }
};

template <typename T, int M, int R, int U>
__global__ void __launch_bounds__(kThreads) nf4_gemv_kernel(const __grid_constant__ QuantizedGemvArgs a) {
    using Table = Nf4Table<T>;
    __shared__ typename Table::Entry table[Table::kEntries][32];
    __shared__ float map[256];
    const int lane = threadIdx.x % 32;
    const int64_t chunks = a.in / 32, groups = (a.out + R - 1) / R;
    const int64_t first_group = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32, stride = static_cast<int64_t>(gridDim.x) * kWarps;
    Nf4Loads<U, R> w;
    if (first_group < groups) w.load(a, first_group * R, lane, chunks);
    for (int i = threadIdx.x; i < Table::kEntries * 32; i += blockDim.x) {
        const int e = i / 32;  // the same for a whole warp: the parameter reads broadcast
        if constexpr (Table::kHalf)
            table[e][i % 32] = __floats2half2_rn(a.nf4.code[e >> 4], a.nf4.code[e & 15]);
        else
            table[e][i % 32] = a.nf4.code[e];
    }
    for (int i = threadIdx.x; i < 256; i += blockDim.x) map[i] = a.nf4.map[i];
    __syncthreads();
    for (int64_t g = first_group; g < groups; g += stride) {
        const int64_t row0 = g * R;
        float acc[M][R] = {};
        for (int64_t c0 = lane; c0 < chunks; c0 += 32 * U) {
            if (g != first_group || c0 != lane) w.load(a, row0, c0, chunks);
#pragma unroll
            for (int u = 0; u < U; ++u) {
                const int64_t c = c0 + u * 32;
                if (c >= chunks) break;
                XChunk<T, 32> x[M];
#pragma unroll
                for (int m = 0; m < M; ++m) x[m].load(static_cast<const T*>(a.x) + m * a.in + c * 32);
#pragma unroll
                for (int r = 0; r < R; ++r) {
                    const uint8_t* b = reinterpret_cast<const uint8_t*>(&w.raw[u][r]);
                    float s[M] = {};
#pragma unroll
                    for (int i = 0; i < 16; ++i) {
                        float w0, w1;
                        if constexpr (Table::kHalf) {
                            const float2 v = __half22float2(table[b[i]][lane]);
                            w0 = v.x;
                            w1 = v.y;
                        } else {
                            w0 = table[b[i] >> 4][lane];
                            w1 = table[b[i] & 15][lane];
                        }
#pragma unroll
                        for (int m = 0; m < M; ++m) {
                            s[m] = fmaf(w0, x[m][2 * i], s[m]);
                            s[m] = fmaf(w1, x[m][2 * i + 1], s[m]);
                        }
                    }
                    const float sc = a.nf4.absmax ? w.scale[u][r] : __fadd_rn(__fmul_rn(map[w.code8[u][r]], w.scale2[u][r]), a.nf4.offset);
#pragma unroll
                    for (int m = 0; m < M; ++m) acc[m][r] = fmaf(s[m], sc, acc[m][r]);
                }
            }
        }
        reduce_and_store<T, M, R>(acc, a, row0, false);
    }
}

// int8 byte k of v (a 4-byte word of W) as a float: with the sign bit flipped (b + 128) it becomes
// the low mantissa byte of 2²³, so the float is 2²³ + 128 + b exactly; one subtract leaves b.
__device__ __forceinline__ float int8_to_float(uint32_t flipped, int k) {
    return __int_as_float(static_cast<int>(__byte_perm(flipped, 0x4B000000u, 0x7540u + k))) - 8388736.0f;
}

template <typename T, int M, int R, int U>
__global__ void __launch_bounds__(kThreads) int8_gemv_kernel(const __grid_constant__ QuantizedGemvArgs a) {
    const int lane = threadIdx.x % 32;
    const int64_t chunks = a.in / 16, groups = (a.out + R - 1) / R;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * kWarps;
    for (int64_t g = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32; g < groups; g += stride) {
        const int64_t row0 = g * R;
        float acc[M][R] = {};
        for (int64_t c0 = lane; c0 < chunks; c0 += 32 * U) {
            uint4 raw[U][R];
#pragma unroll
            for (int u = 0; u < U; ++u) {
                const int64_t c = c0 + u * 32;
#pragma unroll
                for (int r = 0; r < R; ++r) {
                    const int64_t row = row0 + r;
                    raw[u][r] = c < chunks && row < a.out ? __ldg(reinterpret_cast<const uint4*>(a.cb + row * a.in + c * 16)) : make_uint4(0, 0, 0, 0);
                }
            }
#pragma unroll
            for (int u = 0; u < U; ++u) {
                const int64_t c = c0 + u * 32;
                if (c >= chunks) break;
                XChunk<T, 16> x[M];
#pragma unroll
                for (int m = 0; m < M; ++m) x[m].load(static_cast<const T*>(a.x) + m * a.in + c * 16);
#pragma unroll
                for (int r = 0; r < R; ++r) {
                    const uint32_t* words = reinterpret_cast<const uint32_t*>(&raw[u][r]);
#pragma unroll
                    for (int j = 0; j < 4; ++j) {
                        const uint32_t flipped = words[j] ^ 0x80808080u;
#pragma unroll
                        for (int k = 0; k < 4; ++k) {
                            const float wv = int8_to_float(flipped, k);
#pragma unroll
                            for (int m = 0; m < M; ++m) acc[m][r] = fmaf(wv, x[m][4 * j + k], acc[m][r]);
                        }
                    }
                }
            }
        }
        reduce_and_store<T, M, R>(acc, a, row0, true);
    }
}

// NF4 on tensor cores (fp16/bf16, in % 64 == 0, sm_80+). A block owns a tile of 16 output rows;
// its 8 warps split the row's 64-blocks (warp w takes blocks w, w+8, …) and add their partial tiles
// in shared memory at the end. One step of a warp is one 64-block of the 16 rows: lane (gid, tig)
// loads the 8 bytes tig·8… of rows gid and gid+8 (the four lanes of a group cover the block, so
// one scale per row and step), looks each byte up as a pair of codes in T, and four m16n8k16 mmas
// (codes × x, x's rows as the 8 columns) give the block's dot products, scaled per row in fp32.
// The dot product does not depend on the order of k, so k is permuted to fit the loads: in mma j
// of a step, lane tig's k slots (tig·2+{0,1}, tig·2+8+{0,1}) are the block's values
// tig·16 + 4j + {0,1} and + {2,3}, and x's fragment is loaded in the same order.
// The kernel is bound by each warp's chain of dependent instructions (16 warps per SM, H100,
// 2026-11-27: the same time with the weights already in L2, and 20-33 % fewer instructions alone
// gained nothing); what helped is below: a round of steps without branches, so the compiler
// interleaves its mmas, and the next tile's loads issued before a tile's sum.
constexpr int kMmaRows = 8;  // rows of x per launch: the mma's 8 columns

// The code pairs of a byte, one copy per lane: byte b, lane l at byte offset b·256 + l·4 (a single
// PRMT puts the byte above the lane's offset; half of each 256-byte row is unused).
constexpr int kMmaTableBytes = 256 * 256;
extern __shared__ uint4 nf4_code_pairs[];

// The code pair at `offset` in the table: PRMT, one add of the table's base and the LDS, as a generic
// pointer compiles too (no gain measured); every lookup's LDS follows the table's barrier in SASS.
__device__ __forceinline__ uint32_t code_pair(uint32_t offset) {
    const uint32_t address = static_cast<uint32_t>(__cvta_generic_to_shared(nf4_code_pairs)) + offset;
    uint32_t v;
    asm volatile("ld.shared.b32 %0, [%1];" : "=r"(v) : "r"(address));
    return v;
}

// 8 bytes of weights, not kept in L1: streamed once, they would evict x, which every step reads.
__device__ __forceinline__ uint2 load_streaming(const uint2* p) {
    uint2 v;
    asm("ld.global.nc.L1::no_allocate.v2.u32 {%0, %1}, [%2];" : "=r"(v.x), "=r"(v.y) : "l"(p));
    return v;
}

// A lane's two rows of a tile (gid and gid+8; past the matrix's end its last row, whose results are
// never stored) as the index of their first 64-block (32 bits: every model's matrices have fewer
// than 2³² blocks), computed once a tile.
struct TileRows {
    uint32_t block[2];
    __device__ __forceinline__ void set(const QuantizedGemvArgs& a, int64_t tile, int64_t steps) {
        const int gid = threadIdx.x % 32 / 4;
#pragma unroll
        for (int h = 0; h < 2; ++h) block[h] = static_cast<uint32_t>(min(tile * 16 + gid + h * 8, a.out - 1) * steps);
    }
};

// One warp's round of U steps of weight loads: the two rows' bytes and their scales' inputs. The
// four lanes of a group need the same scales, so each loads a quarter of them (steps u ≡ tig mod 4)
// and they are passed round by shuffles (a quarter of the scale loads, which otherwise outnumber
// the weights' sectors).
template <int U>
struct MmaLoads {
    static_assert(U % 4 == 0, "steps come in fours: one per lane of a group");
    uint2 w[U][2];          // rows gid and gid+8
    float scale[U / 4][2];  // steps tig, tig+4, …: plain scales, or the code's second-level scale
    uint8_t code8[U / 4][2];
    // The round at s0: one base pointer per row and constant offsets; steps past the row's end
    // (checked only when not Full: the row's last round) load nothing.
    template <bool Full>
    __device__ __forceinline__ void load(const QuantizedGemvArgs& a, const TileRows& rows, int64_t s0, int64_t steps) {
        const int tig = threadIdx.x % 4;
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const uint32_t first = rows.block[h] + static_cast<uint32_t>(s0);
            const uint2* p = reinterpret_cast<const uint2*>(a.nf4.packed + static_cast<uint64_t>(first) * 32 + tig * 8);
#pragma unroll
            for (int u = 0; u < U; ++u)  // this warp's u-th block of the row
                w[u][h] = Full || s0 + u * kWarps < steps ? load_streaming(p + u * kWarps * 4) : make_uint2(0, 0);
        }
#pragma unroll
        for (int h = 0; h < 2; ++h) {
#pragma unroll
            for (int i = 0; i < U / 4; ++i) {
                const int step = (i * 4 + tig) * kWarps;
                const bool valid = Full || s0 + step < steps;
                const uint32_t block = rows.block[h] + static_cast<uint32_t>(s0 + step);
                if (a.nf4.absmax) {
                    scale[i][h] = valid ? __ldg(a.nf4.absmax + block) : 0.f;
                    code8[i][h] = 0;  // read, then discarded, by step_scale
                } else {
                    code8[i][h] = valid ? __ldg(a.nf4.qabsmax + block) : 0;
                    scale[i][h] = valid ? __ldg(a.nf4.absmax2 + block / 256) : 0.f;
                }
            }
        }
    }
    // The scale of step u for row gid + 8h, from the lane of the group that loaded it (every lane
    // takes part: the shuffle is warp-wide).
    __device__ __forceinline__ float step_scale(const QuantizedGemvArgs& a, const float* map, int u, int h) const {
        const int lane = threadIdx.x % 32;
        const int i = u / 4;
        // both computed and one selected: a branch here would split the round's code, which the
        // compiler then cannot interleave (code8 is 0 without double quantization)
        const float dequantized = __fadd_rn(__fmul_rn(map[code8[i][h]], scale[i][h]), a.nf4.offset);
        const float mine = a.nf4.absmax ? scale[i][h] : dequantized;
        return __shfl_sync(0xffffffffu, mine, (lane & ~3) | (u % 4));
    }
};

// U steps of loads per warp in flight: 8 (2 blocks of 8 warps resident per SM) beat 4 with 3 blocks
// (batch-1 decode 336 vs 296 tokens/s), 4 and 2 double-buffered by 1-5% (H100, 2026-11-27).
constexpr int kMmaSteps = 8;

// x[gid][s·64 + tig·16 …] (16 values) of step u of the round at s0. Columns gid ≥ M are zeros, not
// loads: their results are never stored (at one row of x, 4 lanes of 32 load; measured with the
// weights' L1::no_allocate: long-scoreboard stalls fell 3×, the kernel's time hardly moved).
template <typename T, int M>
__device__ __forceinline__ void load_x(uint4 (&x)[2], const T* x_row, int64_t s0, int u) {
    const uint4* xp = reinterpret_cast<const uint4*>(x_row + (s0 + u * kWarps) * 64);
    const bool column = M == kMmaRows || threadIdx.x % 32 / 4 < M;
    x[0] = column ? __ldg(xp) : make_uint4(0, 0, 0, 0);
    x[1] = column ? __ldg(xp + 1) : make_uint4(0, 0, 0, 0);
}

// Step u's products: the 16 rows' code pairs (PRMT + LDS) times x on tensor cores, in two chains
// of two mmas, unscaled.
template <typename T, int U>
__device__ __forceinline__ void step_products(float (&d)[2][4], const MmaLoads<U>& cur, const uint4 (&x)[2],
                                              uint32_t lane_bytes, int u) {
    const uint32_t xw[8] = {x[0].x, x[0].y, x[0].z, x[0].w, x[1].x, x[1].y, x[1].z, x[1].w};
#pragma unroll
    for (int i = 0; i < 4; ++i) d[0][i] = d[1][i] = 0.f;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        const uint32_t w0 = j < 2 ? cur.w[u][0].x : cur.w[u][0].y, w1 = j < 2 ? cur.w[u][1].x : cur.w[u][1].y;
        const int k = (j % 2) * 2;  // byte 2j of the lane's 8: values 4j+{0,1}; byte 2j+1: 4j+{2,3}
        const uint32_t frag[4] = {code_pair(__byte_perm(w0, lane_bytes, 0x5504u | (k << 4))),
                                  code_pair(__byte_perm(w1, lane_bytes, 0x5504u | (k << 4))),
                                  code_pair(__byte_perm(w0, lane_bytes, 0x5504u | ((k + 1) << 4))),
                                  code_pair(__byte_perm(w1, lane_bytes, 0x5504u | ((k + 1) << 4)))};
        mma16816<T>(d[j % 2], frag, xw[2 * j], xw[2 * j + 1]);
    }
}

// The products scaled per row (sc: rows gid, gid+8) into acc.
__device__ __forceinline__ void fold_products(float (&acc)[4], const float (&d)[2][4], const float (&sc)[2]) {
#pragma unroll
    for (int i = 0; i < 4; ++i) acc[i] = fmaf(d[0][i] + d[1][i], sc[i / 2], acc[i]);
}

// A round of U steps, x loaded a step ahead. In a full round each step's products are folded into
// acc after the next step's mmas are issued (no warp waits on its own mmas before the next
// lookups); a row's last round, of varying length, folds each step at once.
template <typename T, int M, int U, bool Full>
__device__ __forceinline__ void mma_round(float (&acc)[4], const MmaLoads<U>& cur, const QuantizedGemvArgs& a,
                                          const float* map, const T* x_row, uint32_t lane_bytes, int64_t s0,
                                          int64_t steps) {
    uint4 x[2][2];
    float d[2][2][4], sc[2][2];
    load_x<T, M>(x[0], x_row, s0, 0);
#pragma unroll
    for (int u = 0; u < U; ++u) {
        if (!Full && s0 + u * kWarps >= steps) break;
        if (u + 1 < U && (Full || s0 + (u + 1) * kWarps < steps)) load_x<T, M>(x[(u + 1) % 2], x_row, s0, u + 1);
        sc[u % 2][0] = cur.step_scale(a, map, u, 0);
        sc[u % 2][1] = cur.step_scale(a, map, u, 1);
        step_products<T, U>(d[u % 2], cur, x[u % 2], lane_bytes, u);
        if (!Full) fold_products(acc, d[u % 2], sc[u % 2]);
        else if (u > 0) fold_products(acc, d[(u - 1) % 2], sc[(u - 1) % 2]);
    }
    if (Full) fold_products(acc, d[(U - 1) % 2], sc[(U - 1) % 2]);
}

// The block's 8 warps' partial tiles summed in a fixed order and stored by warp 0.
template <typename T, int M>
__device__ __forceinline__ void reduce_tile(float (&acc)[4], float (&partial)[kWarps][32][4], const QuantizedGemvArgs& a,
                                            int64_t tile) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, gid = lane / 4, tig = lane % 4;
#pragma unroll
    for (int i = 0; i < 4; ++i) partial[warp][lane][i] = acc[i];
    __syncthreads();
    if (warp == 0) {
#pragma unroll
        for (int i = 0; i < 4; ++i) {  // d0, d1: row gid, x rows tig·2+{0,1}; d2, d3: row gid+8
            float v = 0;
#pragma unroll
            for (int w = 0; w < kWarps; ++w) v += partial[w][lane][i];
            const int m = tig * 2 + i % 2;
            const int64_t row = tile * 16 + gid + (i / 2) * 8;
            if (m < M && row < a.out) store<T>(a, m, row, v);
        }
    }
    __syncthreads();  // partial is reused by the next tile
}

template <typename T, int M>
__global__ void __launch_bounds__(kThreads, 2) nf4_mma_gemv_kernel(const __grid_constant__ QuantizedGemvArgs a) {
    __shared__ float map[256];
    __shared__ float partial[kWarps][32][4];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, gid = lane / 4, tig = lane % 4;
    const int64_t tiles = (a.out + 15) / 16, steps = a.in / 64;
    constexpr int U = kMmaSteps;
    MmaLoads<U> cur;
    TileRows rows;
    auto load_first_round = [&](int64_t tile) {  // the warp's first round of a tile, and the tile's rows
        rows.set(a, tile, steps);
        if (warp + (U - 1) * kWarps < steps) cur.template load<true>(a, rows, warp, steps);
        else cur.template load<false>(a, rows, warp, steps);
    };
    if (blockIdx.x < tiles) load_first_round(blockIdx.x);  // in flight while the table is built
    for (int c = threadIdx.x; c < 256 * 8; c += kThreads) {  // row e: 32 copies of e's pair, 16 bytes a store
        const int e = c / 8;
        const uint32_t v = pack2<T>(a.nf4.code[e >> 4], a.nf4.code[e & 15]);
        nf4_code_pairs[e * 16 + c % 8] = make_uint4(v, v, v, v);
    }
    for (int i = threadIdx.x; i < 256; i += blockDim.x) map[i] = a.nf4.map[i];
    __syncthreads();
    const uint32_t lane_bytes = lane * 4;
    const T* x_row = static_cast<const T*>(a.x) + min(gid, M - 1) * a.in + tig * 16;
    for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        float acc[4] = {};
        for (int64_t s0 = warp; s0 < steps; s0 += kWarps * U) {
            const bool full = s0 + (U - 1) * kWarps < steps;
            if (s0 != warp) {  // a tile's first round was loaded ahead
                if (full) cur.template load<true>(a, rows, s0, steps);
                else cur.template load<false>(a, rows, s0, steps);
            }
            if (full) mma_round<T, M, U, true>(acc, cur, a, map, x_row, lane_bytes, s0, steps);
            else mma_round<T, M, U, false>(acc, cur, a, map, x_row, lane_bytes, s0, steps);
        }
        // the block's next tile: its first loads in flight while this tile's partial sums meet
        if (tile + gridDim.x < tiles) load_first_round(tile + gridDim.x);
        reduce_tile<T, M>(acc, partial, a, tile);
    }
}

int sm_count() {
    static const int sms = [] {
        int device = 0, n = 0;
        cudaGetDevice(&device);
        cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device);
        return n > 0 ? n : 80;
    }();
    return sms;
}

// Blocks enough for every group, at most as many as are resident at once (the warps then stride
// over the rest): a second, partial wave would leave most of the card idle at its end.
// work_blocks: blocks that would each have work (a group per warp, or a tile per block).
template <auto Kernel>
unsigned blocks_for(int64_t work_blocks, int dynamic_smem = 0) {
    // beyond 48 KiB by opt-in, set on every eager call (a host call; a CUDA graph's replays skip it)
    // rather than once: the attribute belongs to the current device
    if (dynamic_smem) cudaFuncSetAttribute(Kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, dynamic_smem);
    static const int resident = [&] {
        int n = 0;
        cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, Kernel, kThreads, dynamic_smem);
        return std::max(n, 1);
    }();
    return static_cast<unsigned>(std::min<int64_t>(work_blocks, static_cast<int64_t>(resident) * sm_count()));
}

// Two output rows per warp (of 1, 2, 4: the best or within 5% of it on ChatGLM2-6B's shapes for
// int8, H100, 2026-11-27), U·R loads in flight per lane: 8 for one or two rows of x, 4 for more.
template <typename T, int M, bool Nf4>
cudaError_t launch(const QuantizedGemvArgs& a) {
    constexpr int R = 2, U = (M <= 2 ? 8 : 4) / R;
    const int64_t work_blocks = ((a.out + R - 1) / R + kWarps - 1) / kWarps;
    if constexpr (Nf4)
        nf4_gemv_kernel<T, M, R, U><<<blocks_for<nf4_gemv_kernel<T, M, R, U>>(work_blocks), kThreads, 0, a.stream>>>(a);
    else
        int8_gemv_kernel<T, M, R, U><<<blocks_for<int8_gemv_kernel<T, M, R, U>>(work_blocks), kThreads, 0, a.stream>>>(a);
    return cudaGetLastError();
}

template <typename T, int M>
cudaError_t launch_mma(const QuantizedGemvArgs& a) {
    constexpr auto kernel = nf4_mma_gemv_kernel<T, M>;
    kernel<<<blocks_for<kernel>((a.out + 15) / 16, kMmaTableBytes), kThreads, kMmaTableBytes, a.stream>>>(a);
    return cudaGetLastError();
}

template <typename T, bool Nf4>
cudaError_t by_rows(const QuantizedGemvArgs& a) {
    // (the tensor-core kernel indexes 64-blocks in 32 bits)
    const bool mma = Nf4 && nf4_uses_tensor_cores(a.dtype, a.in) && a.out * (a.in / 64) < (int64_t{1} << 32);
    if constexpr (Nf4 && !std::is_same_v<T, float>) {
        if (mma && a.m <= kMmaRows) {
            switch (a.m) {
                case 1: return launch_mma<T, 1>(a);
                case 2: return launch_mma<T, 2>(a);
                case 3: return launch_mma<T, 3>(a);
                case 4: return launch_mma<T, 4>(a);
                case 5: return launch_mma<T, 5>(a);
                case 6: return launch_mma<T, 6>(a);
                case 7: return launch_mma<T, 7>(a);
                case 8: return launch_mma<T, 8>(a);
            }
        }
    }
    const int64_t per_launch = mma ? kMmaRows : kRowsPerLaunch;
    if (a.m > per_launch) {  // groups of rows, each launch reading the weight once
        for (int64_t r = 0; r < a.m; r += per_launch) {
            QuantizedGemvArgs part = a;
            part.m = std::min<int64_t>(per_launch, a.m - r);
            part.x = static_cast<const T*>(a.x) + r * a.in;
            part.y = static_cast<T*>(a.y) + r * a.out;
            if (const cudaError_t e = by_rows<T, Nf4>(part); e != cudaSuccess) return e;
        }
        return cudaSuccess;
    }
    switch (a.m) {
        case 1: return launch<T, 1, Nf4>(a);
        case 2: return launch<T, 2, Nf4>(a);
        case 3: return launch<T, 3, Nf4>(a);
        case 4: return launch<T, 4, Nf4>(a);
    }
    return cudaErrorInvalidValue;
}

template <bool Nf4>
cudaError_t by_dtype(const QuantizedGemvArgs& a) {
    if (a.out == 0 || a.m == 0) return cudaSuccess;
    switch (a.dtype) {
        case DType::F32: return by_rows<float, Nf4>(a);
        case DType::F16: return by_rows<__half, Nf4>(a);
        case DType::BF16: return by_rows<__nv_bfloat16, Nf4>(a);
    }
    return cudaErrorInvalidValue;
}

}  // namespace

cudaError_t nf4_gemv(const QuantizedGemvArgs& a) { return by_dtype<true>(a); }
cudaError_t int8_gemv(const QuantizedGemvArgs& a) { return by_dtype<false>(a); }

}  // namespace tb::kernels
