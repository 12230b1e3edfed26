// RoPE on one new token per row plus the write of its key and value into a static KV cache: the
// ATen reference (Rope::apply + index_put_) and the dispatch to the CUDA kernel (decode_cuda.cu)
// that does both in one launch, rounding like the reference's separate ops. Graph-safe.
#pragma once

#include <ATen/core/Tensor.h>

namespace tb {
class Rope;
}

namespace tb::kernels {

// q [B, 1, nh*hd], k, v [B, 1, nkv*hd]: a layer's projections of the new tokens (views into one
// qkv output are fine); cos, sin: rope.tables() of the rows' positions; K, V [B, nkv, cap, hd];
// positions [B] int64: where each row's key goes (clamped to cap-1). Returns q with RoPE,
// [B, nh, 1, hd].
at::Tensor rope_and_cache_reference(const Rope& rope, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                    const at::Tensor& cos, const at::Tensor& sin, at::Tensor& K, at::Tensor& V,
                                    const at::Tensor& positions, int64_t heads);
at::Tensor rope_and_cache(const Rope& rope, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const at::Tensor& cos, const at::Tensor& sin, at::Tensor& K, at::Tensor& V,
                          const at::Tensor& positions, int64_t heads);

}  // namespace tb::kernels
