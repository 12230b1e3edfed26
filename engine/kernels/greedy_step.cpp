// Greedy step tail: ATen reference and dispatch; see greedy_step.h.
#include "kernels/greedy_step.h"

#include <ATen/ATen.h>

#include "core/error.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/greedy_step_cuda.h"
#include "kernels/kernel_dtype.h"
#endif

namespace tb::kernels {

void record_step(const at::Tensor& next, const at::Tensor& logits, const at::Tensor& stop_ids, const at::Tensor& active,
                 at::Tensor& ids, at::Tensor& positions, at::Tensor& out) {
    ids.copy_(next);
    positions.add_(active);
    out.select(1, 0).copy_(next);
    out.select(1, 1).copy_((next.unsqueeze(1) == stop_ids.unsqueeze(0)).any(1));
    out.select(1, 2).copy_(logits.isfinite().all(-1).logical_not());
}

void greedy_step_reference(const at::Tensor& logits, const at::Tensor& stop_ids, const at::Tensor& active,
                           at::Tensor& ids, at::Tensor& positions, at::Tensor& out) {
    record_step(logits.to(at::kFloat).argmax(-1), logits, stop_ids, active, ids, positions, out);
}

void greedy_step(const at::Tensor& logits, const at::Tensor& stop_ids, const at::Tensor& active, at::Tensor& ids,
                 at::Tensor& positions, at::Tensor& out) {
#ifdef TB_WITH_CUDA_KERNELS
    DType dt;
    const auto longs_ok = [](const at::Tensor& t) { return t.is_cuda() && t.scalar_type() == at::kLong && t.is_contiguous(); };
    if (logits.is_cuda() && logits.dim() == 2 && logits.stride(1) == 1 && kernel_dtype(logits.scalar_type(), &dt) &&
        longs_ok(stop_ids) && longs_ok(active) && longs_ok(ids) && longs_ok(positions) && longs_ok(out)) {
        const c10::cuda::CUDAGuard guard(logits.device());
        GreedyStepArgs a{logits.data_ptr(), logits.stride(0), stop_ids.data_ptr<int64_t>(), active.data_ptr<int64_t>(),
                         ids.data_ptr<int64_t>(), positions.data_ptr<int64_t>(), out.data_ptr<int64_t>(),
                         logits.size(0), logits.size(1), stop_ids.numel(), dt,
                         c10::cuda::getCurrentCUDAStream().stream()};
        const cudaError_t err = greedy_step_forward(a);
        if (err != cudaSuccess) throw Error(std::string("greedy step CUDA kernel failed: ") + cudaGetErrorString(err));
        return;
    }
#endif
    greedy_step_reference(logits, stop_ids, active, ids, positions, out);
}

}  // namespace tb::kernels
