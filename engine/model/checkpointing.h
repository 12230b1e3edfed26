// Gradient checkpointing (torch.utils.checkpoint with use_reentrant=True, as LLaMA-Factory
// uses it): the function runs without recording, and is re-run with recording in backward.
// The RNG state is restored for the re-run so dropout draws the same mask.
#pragma once

#include <ATen/ATen.h>

#include <functional>

namespace tb {

at::Tensor checkpointed(const at::Tensor& input, std::function<at::Tensor(const at::Tensor&)> fn);

}  // namespace tb
