// LoRA's training path as one autograd node: out = y + scaling * (x Aᵀ) Bᵀ, computed in y's dtype
// (as LLaMA-Factory's bf16 autocast runs it) with the sum rounded once, keeping only the [tokens, r]
// product for backward. The reference path (linear.cpp) casts x to fp32 and keeps that copy, runs
// the rank-r products in fp32 and adds in fp32: several [tokens, out] fp32 temporaries per layer.
#pragma once

#include <ATen/core/Tensor.h>

namespace tb {

struct LoraWeights;

// y: the base layer's output [..., out] (its own autograd node); x: the layer's input [..., in].
// The gradient of y is the incoming one (passed through); x, A and B get theirs from the rank-r
// products (no d×d temporary forms). No dropout (the caller keeps the reference path for that).
at::Tensor add_lora(const at::Tensor& y, const at::Tensor& x, const LoraWeights& lora);

}  // namespace tb
