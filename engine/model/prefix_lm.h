// ChatGLM-6B's prefix-LM inputs (FORMATS.md §3.4): the prompt up to <sop> (the config's bos) is
// attended bidirectionally, and each token has two rotary positions: (index, 0) before <sop>,
// (the mask token's index, index − <sop>'s index + 1) from <sop> on. Indices count from a row's
// first real token, so left padding changes nothing.
#pragma once

#include <ATen/core/Tensor.h>

#include "model/model_config.h"

namespace tb {

// anchors [B, 3] int64 for ids [B, T] whose tokens sit at index [B, T]: <sop>'s index, the mask
// token's ([gMASK] if the row has one, else [MASK]) and <sop>'s column in ids. A row without
// <sop> or a mask token is an error naming it (the original code fails on it too).
at::Tensor prefix_lm_anchors(const at::Tensor& ids, const at::Tensor& index, const ModelConfig& config);
// 2-D positions [B, 2, T] of the tokens at index [B, T] (rows 0: position, 1: block position).
at::Tensor prefix_lm_positions(const at::Tensor& anchors, const at::Tensor& index);

}  // namespace tb
