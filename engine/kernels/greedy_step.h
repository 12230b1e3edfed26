// The tail of a greedy decode step: the next token of every row (the first maximal logit), its
// stop flag, a NaN/Inf flag, and each active row's position advanced — the ATen reference (the
// decode context's ops) and the dispatch to one CUDA launch beside it. Graph-safe.
#pragma once

#include <ATen/core/Tensor.h>

namespace tb::kernels {

// logits [B, V] (any float dtype); stop_ids [n] int64 (-1 for none); active [B] int64 (0/1).
// Writes ids [B] = the token, positions [B] += active, out [B, 3] int64 = (token, stop, non-finite).
// record_step: the same for tokens `next` [B] already chosen (by the sampler).
void record_step(const at::Tensor& next, const at::Tensor& logits, const at::Tensor& stop_ids, const at::Tensor& active,
                 at::Tensor& ids, at::Tensor& positions, at::Tensor& out);
void greedy_step_reference(const at::Tensor& logits, const at::Tensor& stop_ids, const at::Tensor& active,
                           at::Tensor& ids, at::Tensor& positions, at::Tensor& out);
void greedy_step(const at::Tensor& logits, const at::Tensor& stop_ids, const at::Tensor& active, at::Tensor& ids,
                 at::Tensor& positions, at::Tensor& out);

}  // namespace tb::kernels
