// Decode-step linear layers: ATen references and dispatch; see decode_linear.h.
#include "kernels/decode_linear.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "core/error.h"
#include "kernels/swiglu.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/decode_linear_cuda.h"
#include "kernels/kernel_dtype.h"
#endif

namespace tb::kernels {

namespace {

#ifdef TB_WITH_CUDA_KERNELS
bool aligned16(const at::Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0; }

// The kernel's conditions for x [..., k] against a weight [n, k] (and the other tensors it reads).
bool serves(const at::Tensor& x, std::initializer_list<const at::Tensor*> weights, DType* dt) {
    if (!x.is_cuda() || !decode_linear_supported() || x.dim() < 1 || x.numel() == 0 || !x.is_contiguous() || !aligned16(x)) return false;
    if (x.scalar_type() != at::kHalf && x.scalar_type() != at::kBFloat16) return false;
    if (!kernel_dtype(x.scalar_type(), dt)) return false;
    const int64_t k = x.size(-1);
    if (k % 8 != 0 || x.numel() / k > kDecodeLinearMaxRows) return false;
    bool wants_grad = at::GradMode::is_enabled() && x.requires_grad();
    for (const at::Tensor* w : weights) {
        if (!w->defined() || w->dim() != 2 || w->size(1) != k || w->scalar_type() != x.scalar_type() ||
            w->device() != x.device() || !w->is_contiguous() || !aligned16(*w))
            return false;
        wants_grad |= at::GradMode::is_enabled() && w->requires_grad();
    }
    return !wants_grad;
}

void run(DecodeLinearArgs a, const at::Tensor& x) {
    const c10::cuda::CUDAGuard guard(x.device());
    a.stream = c10::cuda::getCurrentCUDAStream().stream();
    const cudaError_t err = decode_linear_forward(a);
    if (err != cudaSuccess) throw Error(std::string("decode linear CUDA kernel failed: ") + cudaGetErrorString(err));
}
#endif

}  // namespace

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
#ifdef TB_WITH_CUDA_KERNELS
    DType dt;
    const bool bias_ok = !bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0) &&
                                             bias.scalar_type() == x.scalar_type() && bias.is_contiguous() &&
                                             bias.device() == x.device() &&
                                             !(at::GradMode::is_enabled() && bias.requires_grad()));
    if (bias_ok && serves(x, {&weight}, &dt)) {
        auto sizes = x.sizes().vec();
        sizes.back() = weight.size(0);
        auto out = at::empty(sizes, x.options());
        run({x.data_ptr(), weight.data_ptr(), nullptr, bias.defined() ? bias.data_ptr() : nullptr, nullptr,
             out.data_ptr(), x.numel() / x.size(-1), weight.size(0), x.size(-1), dt, nullptr},
            x);
        return out;
    }
#endif
    return at::linear(x, weight, bias);
}

void linear_accumulate(at::Tensor& residual, const at::Tensor& x, const at::Tensor& weight) {
    if (!residual.is_contiguous() || residual.scalar_type() != x.scalar_type())
        throw Error("linear_accumulate: the residual must be contiguous and in the input's dtype");
#ifdef TB_WITH_CUDA_KERNELS
    DType dt;
    const int64_t rows = x.numel() / x.size(-1);
    if (serves(x, {&weight}, &dt) && residual.device() == x.device() && aligned16(residual) &&
        residual.numel() == rows * weight.size(0)) {
        run({x.data_ptr(), weight.data_ptr(), nullptr, nullptr, residual.data_ptr(), residual.data_ptr(), rows,
             weight.size(0), x.size(-1), dt, nullptr},
            x);
        return;
    }
#endif
    auto out = residual.view({-1, residual.size(-1)});
    out.addmm_(x.reshape({-1, x.size(-1)}), weight.t());
}

bool swiglu_linear_serves(const at::Tensor& x, const at::Tensor& gate_weight, const at::Tensor& up_weight) {
#ifdef TB_WITH_CUDA_KERNELS
    DType dt;
    return serves(x, {&gate_weight, &up_weight}, &dt) && gate_weight.size(0) == up_weight.size(0);
#else
    (void)x, (void)gate_weight, (void)up_weight;
    return false;
#endif
}

at::Tensor swiglu_linear_reference(const at::Tensor& x, const at::Tensor& gate_weight, const at::Tensor& up_weight) {
    return swiglu_reference(at::linear(x, gate_weight), at::linear(x, up_weight));
}

at::Tensor swiglu_linear(const at::Tensor& x, const at::Tensor& gate_weight, const at::Tensor& up_weight) {
#ifdef TB_WITH_CUDA_KERNELS
    DType dt;
    if (serves(x, {&gate_weight, &up_weight}, &dt) && gate_weight.size(0) == up_weight.size(0)) {
        auto sizes = x.sizes().vec();
        sizes.back() = gate_weight.size(0);
        auto out = at::empty(sizes, x.options());
        run({x.data_ptr(), gate_weight.data_ptr(), up_weight.data_ptr(), nullptr, nullptr, out.data_ptr(),
             x.numel() / x.size(-1), gate_weight.size(0), x.size(-1), dt, nullptr},
            x);
        return out;
    }
#endif
    return swiglu(at::linear(x, gate_weight), at::linear(x, up_weight));
}

}  // namespace tb::kernels
