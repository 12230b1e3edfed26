// RMSNorm reference (ATen) and dispatch; see rms_norm.h.
#include "kernels/rms_norm.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <string>

#include "core/error.h"
#include "kernels/training_kernels.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/cuda_device.h"
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

std::pair<at::Tensor, at::Tensor> rms_norm_backward_reference(const at::Tensor& x, const at::Tensor& weight,
                                                              const at::Tensor& grad_y, double eps, bool round_once,
                                                              bool with_weight_grad) {
    auto xf = x.to(at::kFloat), g = grad_y.to(at::kFloat), wf = weight.to(at::kFloat);
    auto r = at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
    auto n = xf * r;
    // without round_once the reference's product w * n is an op in x's dtype: its gradient is rounded
    auto dn = round_once ? g * wf : (g * wf).to(x.scalar_type()).to(at::kFloat);
    auto dx = r * dn - xf * r.pow(3) * (dn * xf).mean(-1, /*keepdim=*/true);
    at::Tensor dw;
    if (with_weight_grad) {
        auto nn = round_once ? n : n.to(x.scalar_type()).to(at::kFloat);
        dw = (g * nn).reshape({-1, x.size(-1)}).sum(0).to(weight.scalar_type());
    }
    return {dx.to(x.scalar_type()), dw};
}

#ifdef TB_WITH_CUDA_KERNELS
namespace {

at::Tensor rms_norm_cuda(const at::Tensor& xc, const at::Tensor& wc, double eps, bool round_once, DType xd, DType wd) {
    auto y = at::empty_like(xc);
    RmsNormArgs a{xc.data_ptr(), wc.data_ptr(), y.data_ptr(), xc.numel() / xc.size(-1), xc.size(-1),
                  static_cast<float>(eps), round_once, xd, wd, c10::cuda::getCurrentCUDAStream().stream()};
    const cudaError_t err = rms_norm_forward(a);
    if (err != cudaSuccess) throw Error(std::string("RMSNorm CUDA kernel failed: ") + cudaGetErrorString(err));
    return y;
}

// Forward and backward kernels as one autograd node: saves x and the weight only (the reference's
// autograd keeps several fp32 copies of x per norm).
struct RmsNormFunction : torch::autograd::Function<RmsNormFunction> {
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                              double eps, bool round_once) {
        DType xd = DType::F32, wd = DType::F32;
        kernel_dtype(x.scalar_type(), &xd);
        kernel_dtype(weight.scalar_type(), &wd);
        auto xc = x.contiguous(), wc = weight.contiguous();
        if (!aligned16(xc.data_ptr())) xc = xc.clone();  // a view at an odd offset: the backward reads 16-byte pieces
        ctx->save_for_backward({xc, wc});
        ctx->saved_data["eps"] = eps;
        ctx->saved_data["round_once"] = round_once;
        return rms_norm_cuda(xc, wc, eps, round_once, xd, wd);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto &x = saved[0], &w = saved[1];
        const c10::cuda::CUDAGuard guard(x.device());
        DType xd = DType::F32, wd = DType::F32;
        kernel_dtype(x.scalar_type(), &xd);
        kernel_dtype(w.scalar_type(), &wd);
        auto g = grads[0].to(x.scalar_type()).contiguous();
        if (!aligned16(g.data_ptr())) g = g.clone();  // as x in the forward
        const int64_t cols = x.size(-1), rows = x.numel() / cols;
        auto dx = at::empty_like(x);
        const bool weight_grad = ctx->needs_input_grad(1);
        at::Tensor partial;
        if (weight_grad)
            partial = at::empty({rms_norm_backward_blocks(rows, cols, xd), cols}, x.options().dtype(at::kFloat));
        RmsNormBackwardArgs a{x.data_ptr(), w.data_ptr(), g.data_ptr(), dx.data_ptr(),
                              weight_grad ? partial.data_ptr<float>() : nullptr, rows, cols,
                              static_cast<float>(ctx->saved_data["eps"].toDouble()), ctx->saved_data["round_once"].toBool(),
                              xd, wd, c10::cuda::getCurrentCUDAStream().stream()};
        const cudaError_t err = rms_norm_backward(a);
        if (err != cudaSuccess) throw Error(std::string("RMSNorm backward CUDA kernel failed: ") + cudaGetErrorString(err));
        return {dx, weight_grad ? partial.sum(0).to(w.scalar_type()) : at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

}  // namespace
#endif

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
    if (x.is_cuda() && weight.is_cuda() && same_result_dtype && kernel_dtype(x.scalar_type(), &xd) &&
        kernel_dtype(weight.scalar_type(), &wd) && weight.dim() == 1 && x.numel() > 0 && x.size(-1) == weight.size(0)) {
        const c10::cuda::CUDAGuard guard(x.device());
        if (!wants_grad) return rms_norm_cuda(x.contiguous(), weight.contiguous(), eps, round_once, xd, wd);
        const int64_t cols = x.size(-1);
        if (training_kernels_enabled() && rms_norm_backward_blocks(x.numel() / cols, cols, xd) > 0)
            return RmsNormFunction::apply(x, weight, eps, round_once);
    }
#endif
    return rms_norm_reference(x, weight, eps, round_once);
}

}  // namespace tb::kernels
