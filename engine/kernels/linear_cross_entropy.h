// The training loss over a vocabulary without its logits: lm_head + cross-entropy over chunks of
// rows, so that neither the fp32 logits [N, V] nor their gradient is ever whole in memory (at
// 4 × 1024 tokens they take 1 GB each for ChatGLM's 65k vocabulary, 2.5 GB for Qwen's 150k).
// Forward keeps each row's log-sum-exp; backward recomputes a chunk's logits and turns them into
// that chunk's gradient. The reference beside it is what the trainer computed before.
#pragma once

#include <ATen/core/Tensor.h>

namespace tb::kernels {

// hidden [N, H] and weight [V, H] in the model dtype, labels [N] int64 (rows equal to
// ignore_index count for nothing). Returns the summed loss, an fp32 scalar: cross-entropy of
// linear(hidden, weight) rounded to the model dtype, then taken in fp32. Gradients flow to hidden
// and, when it requires them, to weight. chunk_elements: fp32 logits held at once (rows × V).
at::Tensor linear_cross_entropy_reference(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& labels,
                                          int64_t ignore_index);
at::Tensor linear_cross_entropy(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& labels,
                                int64_t ignore_index, int64_t chunk_elements = int64_t{1} << 26);

}  // namespace tb::kernels
