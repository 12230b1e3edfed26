// Scaled dot-product attention with grouped K/V heads: at::scaled_dot_product_attention (flash /
// memory-efficient kernels on CUDA, a fused CPU kernel) or an exact eager math path (fp32 softmax).
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace tb {

// LLaMA-Factory's flash_attn: auto | fa2 | sdpa use scaled_dot_product_attention (which picks
// the flash kernel on CUDA when it can) = Fused; disabled uses the exact eager math path.
enum class AttentionKernel { Fused, Eager };
// The kernel a (validated) flash_attn value selects.
AttentionKernel kernel_for_flash_attn(const std::string& flash_attn);

// Neat packing: the examples packed into each row. ids [B, T] int64 numbers them 1, 2, … (0 on
// padding): a query sees only keys of its own segment. The same as flash attention's
// variable-length batch over the flattened B·T tokens: cu_seqlens [n + 1] int32 on the device
// (where each example, and each row's padding tail, starts; then B·T) and the longest, max_len.
struct Segments {
    at::Tensor ids, cu_seqlens;
    int64_t max_len = 0;
    bool defined() const { return ids.defined(); }
};

// q [B, nh, T, hd]; k, v [B, nkv, S, hd] (S = past + T); key_mask [B, S] (true = real token) or
// undefined; segments (neat packing, S = T) or none; prefix [B] int64 or undefined: keys in the
// columns below it are seen by every query (ChatGLM-6B's bidirectional prompt). Queries sit at
// positions S-T … S-1 and attend causally. Returns [B, nh, T, hd]. With segments, on CUDA in 16-bit types, the fused kernel is
// flash attention's variable-length form (no mask, no expanded key/value heads); otherwise a
// block-diagonal mask.
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const at::Tensor& key_mask, AttentionKernel kernel = AttentionKernel::Fused,
                     const Segments& segments = {}, const at::Tensor& prefix = {});

}  // namespace tb
