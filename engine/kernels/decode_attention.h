// Attention of one new query per row over a static KV cache (model/static_kv_cache.h): the ATen
// reference and the dispatch to the CUDA kernel (decode_cuda.cu) beside it. Grouped query heads
// read their K/V group in place (no expansion copy). No host synchronisation (graph-safe).
#pragma once

#include <ATen/core/Tensor.h>

namespace tb {
class Rope;
}

namespace tb::kernels {

// q [B, nh, 1, hd]; K, V [B, nkv, S, hd] whose row b holds valid keys at positions < lengths[b]
// (lengths [B] int64 on q's device, ≥ 1). Returns [B, nh, 1, hd]. Reference: scores by matmul in
// the model dtype, softmax in fp32 (the eager path's order).
at::Tensor decode_attention_reference(const at::Tensor& q, const at::Tensor& K, const at::Tensor& V,
                                      const at::Tensor& lengths);
// The CUDA kernels (fp32 scores and online softmax; tensor cores for fp16/bf16) when they serve, else the reference over the
// first `span` positions (every length must be ≤ span; the kernel reads only valid keys anyway).
at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& K, const at::Tensor& V, const at::Tensor& lengths,
                            int64_t span);

// rope_and_cache (rope_cache.h) then decode_attention, in one CUDA launch where the tensor-core
// kernel serves (fp16/bf16, head_dim 64/128, sm_80+), else the two calls. counters: [≥ B*nh] int32
// zeros on the GPU that the kernel leaves zero, owned by the caller (a decode context keeps one
// for all its steps: no memset in the graph); undefined → allocated per call.
at::Tensor rope_cache_attention(const Rope& rope, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const at::Tensor& cos, const at::Tensor& sin, at::Tensor& K, at::Tensor& V,
                                const at::Tensor& positions, const at::Tensor& lengths, int64_t heads, int64_t span,
                                const at::Tensor& counters);

}  // namespace tb::kernels
