// SwiGLU: ATen reference and dispatch; see swiglu.h.
#include "kernels/swiglu.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/error.h"
#include "kernels/training_kernels.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/kernel_dtype.h"
#include "kernels/swiglu_cuda.h"
#endif

namespace tb::kernels {

at::Tensor swiglu_reference(const at::Tensor& gate, const at::Tensor& up) { return at::silu(gate) * up; }

std::pair<at::Tensor, at::Tensor> swiglu_backward_reference(const at::Tensor& gate, const at::Tensor& up,
                                                           const at::Tensor& grad_out) {
    auto t = grad_out * up;                         // d silu(gate), rounded as the product's backward rounds
    auto grad_up = grad_out * at::silu(gate);       // rounded
    return {at::silu_backward(t, gate), grad_up};   // fp32 inside, rounded once
}

#ifdef TB_WITH_CUDA_KERNELS
namespace {

// [rows, cols] with a unit last stride: a view for the halves of one gate_up output
at::Tensor rows_of(const at::Tensor& t) {
    auto r = t.reshape({-1, t.size(-1)});
    return r.stride(-1) == 1 ? r : r.contiguous();
}

at::Tensor swiglu_cuda(const at::Tensor& gate, const at::Tensor& up, DType dt) {
    auto g2 = rows_of(gate), u2 = rows_of(up);
    auto out = at::empty(gate.sizes(), gate.options());
    SwigluArgs a{g2.data_ptr(), u2.data_ptr(), out.data_ptr(), g2.size(0), g2.size(1), g2.stride(0), u2.stride(0), dt,
                 c10::cuda::getCurrentCUDAStream().stream()};
    const cudaError_t err = swiglu_forward(a);
    if (err != cudaSuccess) throw Error(std::string("SwiGLU CUDA kernel failed: ") + cudaGetErrorString(err));
    return out;
}

// grad_gate and grad_up: [rows, cols] views with a unit last stride, written in place.
void swiglu_backward_cuda(const at::Tensor& gate, const at::Tensor& up, const at::Tensor& grad_out,
                          const at::Tensor& grad_gate, const at::Tensor& grad_up) {
    DType dt = DType::F32;
    kernel_dtype(gate.scalar_type(), &dt);
    auto g2 = rows_of(gate), u2 = rows_of(up), y2 = grad_out.to(gate.scalar_type()).reshape({-1, gate.size(-1)}).contiguous();
    SwigluBackwardArgs a{g2.data_ptr(), u2.data_ptr(), y2.data_ptr(), grad_gate.data_ptr(), grad_up.data_ptr(),
                         g2.size(0), g2.size(1), g2.stride(0), u2.stride(0), grad_gate.stride(0), grad_up.stride(0), dt,
                         c10::cuda::getCurrentCUDAStream().stream()};
    const cudaError_t err = swiglu_backward(a);
    if (err != cudaSuccess) throw Error(std::string("SwiGLU backward CUDA kernel failed: ") + cudaGetErrorString(err));
}

struct SwigluFunction : torch::autograd::Function<SwigluFunction> {
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& gate, const at::Tensor& up) {
        DType dt = DType::F32;
        kernel_dtype(gate.scalar_type(), &dt);
        ctx->save_for_backward({gate, up});
        return swiglu_cuda(gate, up, dt);
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const c10::cuda::CUDAGuard guard(saved[0].device());
        auto grad_gate = at::empty(saved[0].sizes(), saved[0].options());
        auto grad_up = at::empty(saved[1].sizes(), saved[1].options());
        const int64_t cols = saved[0].size(-1);
        swiglu_backward_cuda(saved[0], saved[1], grads[0], grad_gate.view({-1, cols}), grad_up.view({-1, cols}));
        return {grad_gate, grad_up};
    }
};

struct SwigluPackedFunction : torch::autograd::Function<SwigluPackedFunction> {
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& gate_up) {
        DType dt = DType::F32;
        kernel_dtype(gate_up.scalar_type(), &dt);
        const int64_t I = gate_up.size(-1) / 2;
        ctx->save_for_backward({gate_up});
        return swiglu_cuda(gate_up.narrow(-1, 0, I), gate_up.narrow(-1, I, I), dt);
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto gate_up = ctx->get_saved_variables()[0];
        const c10::cuda::CUDAGuard guard(gate_up.device());
        const int64_t I = gate_up.size(-1) / 2;
        auto grad = at::empty(gate_up.sizes(), gate_up.options());
        auto rows = grad.view({-1, 2 * I});
        swiglu_backward_cuda(gate_up.narrow(-1, 0, I), gate_up.narrow(-1, I, I), grads[0], rows.narrow(1, 0, I),
                             rows.narrow(1, I, I));
        return {grad};
    }
};

}  // namespace
#endif

at::Tensor swiglu(const at::Tensor& gate, const at::Tensor& up) {
#ifdef TB_WITH_CUDA_KERNELS
    DType dt;
    const bool wants_grad = at::GradMode::is_enabled() && (gate.requires_grad() || up.requires_grad());
    if (gate.is_cuda() && up.is_cuda() && gate.scalar_type() == up.scalar_type() && kernel_dtype(gate.scalar_type(), &dt) &&
        gate.sizes() == up.sizes() && gate.dim() >= 1 && gate.numel() > 0) {
        const c10::cuda::CUDAGuard guard(gate.device());
        if (!wants_grad) return swiglu_cuda(gate, up, dt);
        if (training_kernels_enabled()) return SwigluFunction::apply(gate, up);
    }
#endif
    return swiglu_reference(gate, up);
}

at::Tensor swiglu_packed(const at::Tensor& gate_up) {
    const int64_t I = gate_up.size(-1) / 2;
#ifdef TB_WITH_CUDA_KERNELS
    DType dt;
    const bool wants_grad = at::GradMode::is_enabled() && gate_up.requires_grad();
    if (wants_grad && training_kernels_enabled() && gate_up.is_cuda() && kernel_dtype(gate_up.scalar_type(), &dt) && gate_up.numel() > 0 &&
        gate_up.size(-1) % 2 == 0) {
        const c10::cuda::CUDAGuard guard(gate_up.device());
        return SwigluPackedFunction::apply(gate_up);
    }
#endif
    return swiglu(gate_up.narrow(-1, 0, I), gate_up.narrow(-1, I, I));
}

}  // namespace tb::kernels
