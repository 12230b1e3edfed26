// The raw-pointer arguments of the decode-step kernels (decode_cuda.h) built from ATen tensors, for
// the dispatchers in rope_cache.cpp and decode_attention.cpp. Only for translation units built
// with the CUDA kernels.
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>

#include "kernels/decode_cuda.h"

namespace tb {
class Rope;
}

namespace tb::kernels {

// A launch's arguments and the tensors they point into (contiguous copies, outputs), kept alive
// until the launch is queued.
struct RopeCacheCall {
    RopeCacheArgs args;
    at::Tensor cos, sin, positions, q_out;
};
struct DecodeAttentionCall {
    DecodeAttentionArgs args;
    at::Tensor q, lengths, out, workspace, counters;
};

// nullopt where the kernel does not serve these tensors (dtype, layout, device). with_q_out: false
// for the fused attention kernel, which rotates the queries itself (no q_out is allocated).
std::optional<RopeCacheCall> rope_cache_call(const Rope& rope, const at::Tensor& q, const at::Tensor& k,
                                             const at::Tensor& v, const at::Tensor& cos, const at::Tensor& sin,
                                             at::Tensor& K, at::Tensor& V, const at::Tensor& positions,
                                             int64_t heads, bool with_q_out = true);
// q: [B, heads, 1, hd], or undefined when the fused kernel rotates the queries itself (then no
// q pointer). counters: [≥ B*heads] int32 zeros the kernel leaves zero, or undefined (allocated).
std::optional<DecodeAttentionCall> decode_attention_call(const at::Tensor& q, int64_t heads, const at::Tensor& K,
                                                         const at::Tensor& V, const at::Tensor& lengths,
                                                         const at::Tensor& counters);

}  // namespace tb::kernels
