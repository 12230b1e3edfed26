// RMSNorm reference (ATen) and dispatch; see rms_norm.h.
#include "kernels/rms_norm.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "core/error.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/kernel_dtype.h"
#include "kernels/rms_norm_cuda.h"
#endif

namespace tb::kernels {

at::Tensor rms_norm_reference(const at::Tensor& x, const at::Tensor& weight, double eps, bool round_once) {
    auto xf = x.to(at::kFloat);
    auto y = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);  // fp32
    if (round_once) return (weight * y).to(x.scalar_type());           // fp32 product, one rounding
    return weight * y.to(x.scalar_type());
}

bool built_with_cuda_kernels() {
#ifdef TB_WITH_CUDA_KERNELS
    return true;
#else
    return false;
#endif
}


at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps, bool round_once) {
#ifdef TB_WITH_CUDA_KERNELS
    DType xd, wd;
    const bool wants_grad = at::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad());
    // The reference promotes to the weight's dtype when not rounding once (fp32 weight, bf16 x):
    // the kernel writes x's dtype, so it serves only when the result dtype is x's.
    const bool same_result_dtype = round_once || weight.scalar_type() == x.scalar_type();
    if (x.is_cuda() && weight.is_cuda() && !wants_grad && same_result_dtype && kernel_dtype(x.scalar_type(), &xd) &&
        kernel_dtype(weight.scalar_type(), &wd) && weight.dim() == 1 && x.size(-1) == weight.size(0)) {
        const c10::cuda::CUDAGuard guard(x.device());
        auto xc = x.contiguous();
        auto wc = weight.contiguous();
        auto y = at::empty_like(xc);
        RmsNormArgs a{xc.data_ptr(), wc.data_ptr(), y.data_ptr(), xc.numel() / xc.size(-1), xc.size(-1),
                      static_cast<float>(eps), round_once, xd, wd, c10::cuda::getCurrentCUDAStream().stream()};
        const cudaError_t err = rms_norm_forward(a);
        if (err != cudaSuccess) throw Error(std::string("RMSNorm CUDA kernel failed: ") + cudaGetErrorString(err));
        return y;
    }
#endif
    return rms_norm_reference(x, weight, eps, round_once);
}

}  // namespace tb::kernels
