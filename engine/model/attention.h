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

// q [B, nh, T, hd]; k, v [B, nkv, S, hd] (S = past + T); key_mask [B, S] (true = real token) or
// undefined; segments [B, S] int64 (neat packing: a query sees only keys of its own segment) or
// undefined. Queries sit at positions S-T … S-1 and attend causally. Returns [B, nh, T, hd].
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const at::Tensor& key_mask, AttentionKernel kernel = AttentionKernel::Fused,
                     const at::Tensor& segments = {});

}  // namespace tb
