// The kernels' element type for an ATen dtype (fp32, fp16, bf16); false for any other, where the
// dispatchers use their ATen reference. Only for translation units built with the CUDA kernels.
#pragma once

#include <c10/core/ScalarType.h>

#include "kernels/rms_norm_cuda.h"  // DType

namespace tb::kernels {

inline bool kernel_dtype(at::ScalarType t, DType* out) {
    switch (t) {
        case at::kFloat: *out = DType::F32; return true;
        case at::kHalf: *out = DType::F16; return true;
        case at::kBFloat16: *out = DType::BF16; return true;
        default: return false;
    }
}

}  // namespace tb::kernels
