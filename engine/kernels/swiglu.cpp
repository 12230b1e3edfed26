// SwiGLU: ATen reference and dispatch; see swiglu.h.
#include "kernels/swiglu.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "core/error.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/kernel_dtype.h"
#include "kernels/swiglu_cuda.h"
#endif

namespace tb::kernels {

at::Tensor swiglu_reference(const at::Tensor& gate, const at::Tensor& up) { return at::silu(gate) * up; }

at::Tensor swiglu(const at::Tensor& gate, const at::Tensor& up) {
#ifdef TB_WITH_CUDA_KERNELS
    DType dt;
    const bool wants_grad = at::GradMode::is_enabled() && (gate.requires_grad() || up.requires_grad());
    if (gate.is_cuda() && up.is_cuda() && !wants_grad && gate.scalar_type() == up.scalar_type() &&
        kernel_dtype(gate.scalar_type(), &dt) && gate.sizes() == up.sizes() && gate.dim() >= 1 && gate.numel() > 0) {
        const c10::cuda::CUDAGuard guard(gate.device());
        const int64_t cols = gate.size(-1);
        // [rows, cols] with a unit last stride: a view for the halves of one gate_up output
        auto rows_of = [cols](const at::Tensor& t) {
            auto r = t.reshape({-1, cols});
            return r.stride(-1) == 1 ? r : r.contiguous();
        };
        auto g2 = rows_of(gate), u2 = rows_of(up);
        auto out = at::empty(gate.sizes(), gate.options());
        SwigluArgs a{g2.data_ptr(), u2.data_ptr(), out.data_ptr(), g2.size(0), cols, g2.stride(0), u2.stride(0), dt,
                     c10::cuda::getCurrentCUDAStream().stream()};
        const cudaError_t err = swiglu_forward(a);
        if (err != cudaSuccess) throw Error(std::string("SwiGLU CUDA kernel failed: ") + cudaGetErrorString(err));
        return out;
    }
#endif
    return swiglu_reference(gate, up);
}

}  // namespace tb::kernels
