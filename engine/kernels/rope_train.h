// RoPE for training: Rope::apply (model/rope.cpp) is the reference; on CUDA (with gradients wanted,
// or in a half type) the forward and backward kernels (rope_train_cuda.cu) run as one autograd
// node with ATen's roundings. ChatGLM's fused query_key_value output is split and rotated by one node whose
// backward writes the whole qkv gradient at once (no zero-filled slices summed, as autograd does
// for three narrowed views).
#pragma once

#include <ATen/core/Tensor.h>

#include <array>

namespace tb {
class Rope;
}

namespace tb::kernels {

// x [B, T, heads, hd] → rope.apply(x, cos, sin) (contiguous on the kernel path).
at::Tensor rope_train(const Rope& rope, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

// qkv [B, T, (heads + 2 kv_heads) hd] → q [B, T, heads, hd] and k [B, T, kv_heads, hd] rotated, v
// [B, T, kv_heads, hd] as it is.
std::array<at::Tensor, 3> rope_qkv(const Rope& rope, const at::Tensor& qkv, const at::Tensor& cos,
                                   const at::Tensor& sin, int64_t heads, int64_t kv_heads, int64_t head_dim);

// The gradient of x for rope.apply's output gradient g, written out (what the backward kernel
// computes): the rotation by the opposite angle, rope.apply(g, cos, -sin), rounded as autograd
// rounds through the reference (cos/sin are duplicated across the halves for rotate-half).
at::Tensor rope_backward_reference(const Rope& rope, const at::Tensor& g, const at::Tensor& cos, const at::Tensor& sin);

}  // namespace tb::kernels
