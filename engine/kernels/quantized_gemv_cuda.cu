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
constexpr int kMmaRows = 8;  // rows of x per launch: the mma's 8 columns

// The code pairs of a byte, one copy per lane: byte b, lane l at byte offset b·256 + l·4 (a single
// PRMT puts the byte above the lane's offset; half of each 256-byte row is unused). The table's own
// address is added per lookup: on sm_90 a shared address carries the block's cluster rank, so it
// is not a constant the compiler can fold into the load.
constexpr int kMmaTableBytes = 256 * 256;

__device__ __forceinline__ uint32_t lookup(const uint32_t* table, uint32_t word, uint32_t lane_bytes, int k) {
    const uint32_t offset = __byte_perm(word, lane_bytes, 0x5504u | (k << 4));
    return *reinterpret_cast<const uint32_t*>(reinterpret_cast<const char*>(table) + offset);
}

// One warp's U steps of weight loads: the two rows' bytes and their scales' inputs. The four lanes
// of a group need the same scales, so each loads a quarter of them (steps u ≡ tig mod 4) and they
// are passed round by shuffles (a quarter of the scale loads, which otherwise outnumber the
// weights' sectors). x's fragment is loaded when used: it stays in L1, and its registers would
// cost resident warps.
template <int U>
struct MmaLoads {
    static_assert(U % 4 == 0, "steps come in fours: one per lane of a group");
    uint2 w[U][2];          // rows gid and gid+8
    float scale[U / 4][2];  // steps tig, tig+4, …: plain scales, or the code's second-level scale
    uint8_t code8[U / 4][2];
    // Rows past the matrix's end read its last row instead (valid memory; their results are never
    // stored), so only the steps are bounds-checked and each load is a base pointer plus a constant.
    __device__ __forceinline__ void load(const QuantizedGemvArgs& a, int64_t tile, int64_t s0, int64_t steps) {
        const int lane = threadIdx.x % 32, gid = lane / 4, tig = lane % 4;
        int64_t first_block[2];
#pragma unroll
        for (int h = 0; h < 2; ++h) first_block[h] = min(tile * 16 + gid + h * 8, a.out - 1) * steps + s0;
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const uint8_t* p = a.nf4.packed + first_block[h] * 32 + tig * 8;
#pragma unroll
            for (int u = 0; u < U; ++u)  // this warp's u-th block of the row
                w[u][h] = s0 + u * kWarps < steps ? __ldg(reinterpret_cast<const uint2*>(p + u * kWarps * 32)) : make_uint2(0, 0);
        }
#pragma unroll
        for (int h = 0; h < 2; ++h) {
#pragma unroll
            for (int i = 0; i < U / 4; ++i) {
                const int step = (i * 4 + tig) * kWarps;
                const int64_t block = first_block[h] + step;
                const bool valid = s0 + step < steps;
                if (a.nf4.absmax) {
                    scale[i][h] = valid ? __ldg(a.nf4.absmax + block) : 0.f;
                } else {
                    code8[i][h] = valid ? __ldg(a.nf4.qabsmax + block) : 0;
                    scale[i][h] = valid ? __ldg(a.nf4.absmax2 + block / 256) : 0.f;
                }
            }
        }
    }
    // The rolling variant's pieces of load(): step u's weights, and the scales of steps 4i … 4i+3,
    // of the round whose first blocks of rows gid and gid+8 are first_block[] (round start s0).
    __device__ __forceinline__ void load_step(const QuantizedGemvArgs& a, const int64_t (&first_block)[2], int64_t s0,
                                              int64_t steps, int u) {
        const int tig = threadIdx.x % 4;
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const uint8_t* p = a.nf4.packed + first_block[h] * 32 + tig * 8 + u * kWarps * 32;
            w[u][h] = s0 + u * kWarps < steps ? __ldg(reinterpret_cast<const uint2*>(p)) : make_uint2(0, 0);
        }
    }
    __device__ __forceinline__ void load_scales(const QuantizedGemvArgs& a, const int64_t (&first_block)[2], int64_t s0,
                                                int64_t steps, int i) {
        const int tig = threadIdx.x % 4;
        const int step = (i * 4 + tig) * kWarps;
        const bool valid = s0 + step < steps;
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int64_t block = first_block[h] + step;
            if (a.nf4.absmax) {
                scale[i][h] = valid ? __ldg(a.nf4.absmax + block) : 0.f;
            } else {
                code8[i][h] = valid ? __ldg(a.nf4.qabsmax + block) : 0;
                scale[i][h] = valid ? __ldg(a.nf4.absmax2 + block / 256) : 0.f;
            }
        }
    }
    // The scale of step u for row gid + 8h, from the lane of the group that loaded it (every lane
    // takes part: the shuffle is warp-wide).
    __device__ __forceinline__ float step_scale(const QuantizedGemvArgs& a, const float* map, int u, int h) const {
        const int lane = threadIdx.x % 32;
        const int i = u / 4;
        const float mine = a.nf4.absmax ? scale[i][h] : __fadd_rn(__fmul_rn(map[code8[i][h]], scale[i][h]), a.nf4.offset);
        return __shfl_sync(0xffffffffu, mine, (lane & ~3) | (u % 4));
    }
};

// U steps of loads per warp in flight: 8 (2 blocks of 8 warps resident per SM) beat 4 with 3 blocks
// (batch-1 decode 336 vs 296 tokens/s), 4 and 2 double-buffered by 1-5% (H100, 2026-11-27).
constexpr int kMmaSteps = 8;

// One step u of a warp's round: the 64-block of the 16 rows at step s0 + u·kWarps, times x, into acc.
template <typename T, int U>
__device__ __forceinline__ void mma_step(float (&acc)[4], const MmaLoads<U>& cur, const QuantizedGemvArgs& a,
                                         const uint32_t* table, const float* map, const T* x_row, uint32_t lane_bytes,
                                         int64_t s0, int u) {
    // x[gid][s·64 + tig·16 …] (16 values); columns gid ≥ M read row M-1, their results unused
    const uint4* xp = reinterpret_cast<const uint4*>(x_row + (s0 + u * kWarps) * 64);
    const uint4 x[2] = {__ldg(xp), __ldg(xp + 1)};
    const uint32_t xw[8] = {x[0].x, x[0].y, x[0].z, x[0].w, x[1].x, x[1].y, x[1].z, x[1].w};
    float d[2][4] = {};  // two chains of mmas: half the dependent latency
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        const uint32_t w0 = j < 2 ? cur.w[u][0].x : cur.w[u][0].y, w1 = j < 2 ? cur.w[u][1].x : cur.w[u][1].y;
        const int k = (j % 2) * 2;  // byte 2j of the lane's 8: values 4j+{0,1}; byte 2j+1: 4j+{2,3}
        const uint32_t frag[4] = {lookup(table, w0, lane_bytes, k), lookup(table, w1, lane_bytes, k),
                                  lookup(table, w0, lane_bytes, k + 1), lookup(table, w1, lane_bytes, k + 1)};
        mma16816<T>(d[j % 2], frag, xw[2 * j], xw[2 * j + 1]);
    }
    const float sc[2] = {cur.step_scale(a, map, u, 0), cur.step_scale(a, map, u, 1)};
#pragma unroll
    for (int i = 0; i < 4; ++i) acc[i] = fmaf(d[0][i] + d[1][i], sc[i / 2], acc[i]);
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

// Rolling (TUNEBENCH_NF4_GEMV=rolling, not yet measured on a GPU): each step's registers are
// reloaded with the warp's next round as soon as the step is used, so loads stay in flight while
// the round computes and while the block sums a finished tile (the default waits for a whole
// round's loads, computes, then loads the next).
template <typename T, int M, bool Rolling>
__global__ void __launch_bounds__(kThreads, 2) nf4_mma_gemv_kernel(const __grid_constant__ QuantizedGemvArgs a) {
    extern __shared__ uint32_t table[];
    __shared__ float map[256];
    __shared__ float partial[kWarps][32][4];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, gid = lane / 4, tig = lane % 4;
    const uint32_t lane_bytes = lane * 4;
    const int64_t tiles = (a.out + 15) / 16, steps = a.in / 64;
    constexpr int U = kMmaSteps;
    MmaLoads<U> cur;
    if (blockIdx.x < tiles) cur.load(a, blockIdx.x, warp, steps);
    for (int i = threadIdx.x; i < 256 * 32; i += blockDim.x) {
        const int e = i / 32;  // the same for a whole warp: the parameter reads broadcast
        table[e * 64 + i % 32] = pack2<T>(a.nf4.code[e >> 4], a.nf4.code[e & 15]);
    }
    for (int i = threadIdx.x; i < 256; i += blockDim.x) map[i] = a.nf4.map[i];
    __syncthreads();
    const T* x_row = static_cast<const T*>(a.x) + min(gid, M - 1) * a.in + tig * 16;
    if constexpr (!Rolling) {
        for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
            float acc[4] = {};
            for (int64_t s0 = warp; s0 < steps; s0 += kWarps * U) {
                if (tile != blockIdx.x || s0 != warp) cur.load(a, tile, s0, steps);  // the first came before the table
#pragma unroll
                for (int u = 0; u < U; ++u) {
                    if (s0 + u * kWarps >= steps) break;
                    mma_step<T, U>(acc, cur, a, table, map, x_row, lane_bytes, s0, u);
                }
            }
            reduce_tile<T, M>(acc, partial, a, tile);
        }
    } else {
        float acc[4] = {};
        int64_t tile = blockIdx.x, s0 = warp;
        while (tile < tiles) {
            // the round after this one: the tile's next steps, or the block's next tile
            int64_t next_tile = tile, next_s0 = s0 + kWarps * U;
            if (next_s0 >= steps) {
                next_tile = tile + gridDim.x;
                next_s0 = warp;
            }
            const bool more = next_tile < tiles;
            int64_t first_block[2];
#pragma unroll
            for (int h = 0; h < 2; ++h) first_block[h] = min(next_tile * 16 + gid + h * 8, a.out - 1) * steps + next_s0;
#pragma unroll
            for (int u = 0; u < U; ++u) {
                if (s0 + u * kWarps < steps) mma_step<T, U>(acc, cur, a, table, map, x_row, lane_bytes, s0, u);
                if (more) {
                    cur.load_step(a, first_block, next_s0, steps, u);
                    if (u % 4 == 3) cur.load_scales(a, first_block, next_s0, steps, u / 4);
                }
            }
            if (next_tile != tile) {  // this warp's share of the tile is done
                reduce_tile<T, M>(acc, partial, a, tile);
#pragma unroll
                for (int i = 0; i < 4; ++i) acc[i] = 0.f;
            }
            tile = next_tile;
            s0 = next_s0;
        }
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

template <typename T, int M, bool Rolling>
cudaError_t launch_mma_variant(const QuantizedGemvArgs& a) {
    constexpr auto kernel = nf4_mma_gemv_kernel<T, M, Rolling>;
    kernel<<<blocks_for<kernel>((a.out + 15) / 16, kMmaTableBytes), kThreads, kMmaTableBytes, a.stream>>>(a);
    return cudaGetLastError();
}

template <typename T, int M>
cudaError_t launch_mma(const QuantizedGemvArgs& a) {
    return a.nf4_rolling ? launch_mma_variant<T, M, true>(a) : launch_mma_variant<T, M, false>(a);
}

template <typename T, bool Nf4>
cudaError_t by_rows(const QuantizedGemvArgs& a) {
    const bool mma = Nf4 && nf4_uses_tensor_cores(a.dtype, a.in);
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
