// The switch for the training kernels (RMSNorm, RoPE, SwiGLU and cross-entropy forward + backward,
// grouped key/value heads in fused attention), read once from the environment.
#pragma once

namespace tb::kernels {

// False when TUNEBENCH_TRAINING_KERNELS=0: anything wanting gradients takes the ATen references,
// and fused attention gets expanded key/value heads, as before the training kernels (A/B benchmarks).
bool training_kernels_enabled();

}  // namespace tb::kernels
