// Next tokens for a batch of rows with tensor ops on the logits' device, so decoding never copies
// logits to the host and a CUDA graph can capture the choice: repetition penalty over each row's
// `seen` ids, greedy, or temperature → top-k → top-p → an inverse-CDF draw with the caller's
// uniform number per row. The scalar Sampler (sampler.h) is its reference: same token for the same
// uniform. No host synchronisation.
#pragma once

#include <ATen/ATen.h>

#include "infer/generation_config.h"

namespace tb {

// logits [B, V] (any float dtype); seen [B, V] bool (ids in the prompt or generated; used when
// repetition_penalty != 1, else may be undefined); uniforms [B] fp32 in [0, 1) (used when
// do_sample). Returns ids [B] int64.
at::Tensor sample_tokens(const at::Tensor& logits, const at::Tensor& seen, const at::Tensor& uniforms,
                         const GenerationConfig& config);

}  // namespace tb
