// The CUDA side of the decode-step kernels (decode_cuda.cu): raw pointers, no torch headers.
// Their ATen references and dispatch are in rope_cache.cpp and decode_attention.cpp.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/rms_norm_cuda.h"  // DType

namespace tb::kernels {

// RoPE on one new token per row and the KV-cache write, in one launch.
struct RopeCacheArgs {
    const void* q;  // row b at q + b * q_stride: [heads * head_dim] (a view into a qkv output is fine)
    const void* k;  // row b at k + b * k_stride: [kv_heads * head_dim]
    const void* v;  // row b at v + b * v_stride: [kv_heads * head_dim]
    int64_t q_stride, k_stride, v_stride;  // elements
    const void* cos;  // [batch, table] contiguous, dtype: table = rotary_dim / 2 (interleaved) or head_dim
    const void* sin;
    int64_t table;
    void* q_out;                     // [batch, heads, head_dim] contiguous
    void* k_cache;                   // [batch, kv_heads, capacity, head_dim] contiguous
    void* v_cache;
    const int64_t* positions;        // [batch]: the cache position of each row's token
    int64_t batch, heads, kv_heads, head_dim, rotary_dim, capacity;
    bool interleaved;  // ChatGLM: pairs (2i, 2i+1) of the first rotary_dim; else rotate-half over head_dim
    DType dtype;
    cudaStream_t stream;
};
cudaError_t rope_and_cache_forward(const RopeCacheArgs& args);

// Attention of one query per row and head over the row's cached keys, fp32 scores and online
// softmax: a block per (kv group, row, split of the keys) serves all the group's query heads (fp32:
// keys staged once in shared memory, then a second launch merges the splits; fp16/bf16 with
// head_dim 64/128 on sm_80+: tensor-core tiles, decode_attention_mma.cuh, whose last block of a
// head tile merges the splits).
struct DecodeAttentionArgs {
    const void* q;          // [batch, heads, head_dim] contiguous
    const void* k_cache;    // [batch, kv_heads, capacity, head_dim] contiguous
    const void* v_cache;
    const int64_t* lengths; // [batch]: keys 0 … lengths[b]-1 are valid (≥ 1)
    void* out;              // [batch, heads, head_dim] contiguous
    float* workspace;       // decode_attention_workspace(args) floats on the device
    unsigned* counters;     // decode_attention_counters(args) zeros on the device (or none); the kernel leaves them zero
    int64_t batch, heads, kv_heads, head_dim, capacity;
    float scale;
    DType dtype;
    cudaStream_t stream;
};
constexpr int64_t kDecodeAttentionMaxHeadDim = 256;
constexpr int64_t kDecodeAttentionMaxGroupSize = 64;  // query heads per kv head
// Whether the kernel serves these shapes (head_dim, group size, shared memory); else use the reference.
bool decode_attention_fits(const DecodeAttentionArgs& args);
int64_t decode_attention_workspace(const DecodeAttentionArgs& args);
int64_t decode_attention_counters(const DecodeAttentionArgs& args);
cudaError_t decode_attention_forward(const DecodeAttentionArgs& args);

// rope_and_cache_forward then decode_attention_forward in one launch (the tensor-core kernel, which
// rotates the queries itself: rope.q_out is not written). Same cache in both argument sets.
bool rope_cache_attention_fits(const RopeCacheArgs& rope, const DecodeAttentionArgs& attention);
cudaError_t rope_cache_attention_forward(const RopeCacheArgs& rope, const DecodeAttentionArgs& attention);

}  // namespace tb::kernels
