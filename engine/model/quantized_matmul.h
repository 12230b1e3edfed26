// x @ dequantize(W)^T for a frozen quantized weight, as bitsandbytes' MatMul4Bit does it: the
// dequantized weight is not kept for backward but dequantized again there, so QLoRA's memory
// stays at the quantized size even without gradient checkpointing.
#pragma once

#include <ATen/ATen.h>

namespace tb {

struct QuantizedWeight;

// x in the weight's compute dtype; bias may be undefined.
at::Tensor quantized_linear(const at::Tensor& x, const QuantizedWeight& weight, const at::Tensor& bias);

}  // namespace tb
