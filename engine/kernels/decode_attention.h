// Attention of one new query per row over a static KV cache (model/static_kv_cache.h): the ATen
// reference and the dispatch to the CUDA kernel (decode_cuda.cu) beside it. Grouped query heads
// read their K/V group in place (no expansion copy). No host synchronisation (graph-safe).
#pragma once

#include <ATen/core/Tensor.h>

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

}  // namespace tb::kernels
