// RoPE for training: reference, autograd nodes and dispatch; see rope_train.h.
#include "kernels/rope_train.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/error.h"
#include "kernels/training_kernels.h"
#include "model/rope.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/kernel_dtype.h"
#include "kernels/rope_train_cuda.h"
#endif

namespace tb::kernels {

at::Tensor rope_backward_reference(const Rope& rope, const at::Tensor& g, const at::Tensor& cos, const at::Tensor& sin) {
    return rope.apply(g, cos, -sin);
}

namespace {

std::array<at::Tensor, 3> split_qkv(const at::Tensor& qkv, int64_t heads, int64_t kv_heads, int64_t hd) {
    const int64_t B = qkv.size(0), T = qkv.size(1);
    return {qkv.narrow(-1, 0, heads * hd).reshape({B, T, heads, hd}),
            qkv.narrow(-1, heads * hd, kv_heads * hd).reshape({B, T, kv_heads, hd}),
            qkv.narrow(-1, (heads + kv_heads) * hd, kv_heads * hd).reshape({B, T, kv_heads, hd})};
}

#ifdef TB_WITH_CUDA_KERNELS
// cos/sin [B or 1, T, 1, n] → [B * T, n] contiguous, as the kernel indexes them.
at::Tensor table_rows(const at::Tensor& t, int64_t B, int64_t T) {
    return t.expand({B, T, 1, t.size(-1)}).reshape({B * T, t.size(-1)}).contiguous();
}

// src/dst [B, T, H, hd] views with a unit last stride.
void rotate(const at::Tensor& src, const at::Tensor& dst, const at::Tensor& cos_rows, const at::Tensor& sin_rows,
            int64_t rotary_dim, bool interleaved, bool backward) {
    DType dt = DType::F32;
    kernel_dtype(src.scalar_type(), &dt);
    RopeRowsArgs a{src.data_ptr(), dst.data_ptr(), src.stride(0), src.stride(1), src.stride(2), dst.stride(0),
                   dst.stride(1), dst.stride(2), cos_rows.data_ptr(), sin_rows.data_ptr(), cos_rows.size(1),
                   src.size(0), src.size(1), src.size(2), src.size(3), rotary_dim, interleaved, backward, dt,
                   c10::cuda::getCurrentCUDAStream().stream()};
    const cudaError_t err = rope_rows(a);
    if (err != cudaSuccess) throw Error(std::string("RoPE CUDA kernel failed: ") + cudaGetErrorString(err));
}

// a [B, T, H, hd] tensor with a unit last stride (a gradient may come as any view)
at::Tensor unit_last_stride(const at::Tensor& t) { return t.stride(-1) == 1 ? t : t.contiguous(); }

struct RopeFunction : torch::autograd::Function<RopeFunction> {
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& cos_rows,
                              const at::Tensor& sin_rows, int64_t rotary_dim, bool interleaved) {
        auto xs = unit_last_stride(x);
        auto out = at::empty(x.sizes(), x.options());
        rotate(xs, out, cos_rows, sin_rows, rotary_dim, interleaved, false);
        ctx->save_for_backward({cos_rows, sin_rows});
        ctx->saved_data["rotary_dim"] = rotary_dim;
        ctx->saved_data["interleaved"] = interleaved;
        return out;
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const c10::cuda::CUDAGuard guard(saved[0].device());
        auto g = unit_last_stride(grads[0]);
        auto dx = at::empty(g.sizes(), g.options());
        rotate(g, dx, saved[0], saved[1], ctx->saved_data["rotary_dim"].toInt(),
               ctx->saved_data["interleaved"].toBool(), true);
        return {dx, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

struct RopeQkvFunction : torch::autograd::Function<RopeQkvFunction> {
    static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& qkv,
                                                  const at::Tensor& cos_rows, const at::Tensor& sin_rows,
                                                  int64_t heads, int64_t kv_heads, int64_t hd, int64_t rotary_dim,
                                                  bool interleaved) {
        auto parts = split_qkv(unit_last_stride(qkv), heads, kv_heads, hd);
        auto q = at::empty(parts[0].sizes(), qkv.options()), k = at::empty(parts[1].sizes(), qkv.options());
        rotate(parts[0], q, cos_rows, sin_rows, rotary_dim, interleaved, false);
        rotate(parts[1], k, cos_rows, sin_rows, rotary_dim, interleaved, false);
        ctx->save_for_backward({cos_rows, sin_rows});
        ctx->saved_data["shape"] = qkv.sizes().vec();
        ctx->saved_data["heads"] = heads;
        ctx->saved_data["kv_heads"] = kv_heads;
        ctx->saved_data["hd"] = hd;
        ctx->saved_data["rotary_dim"] = rotary_dim;
        ctx->saved_data["interleaved"] = interleaved;
        return {q, k, parts[2].contiguous()};
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const c10::cuda::CUDAGuard guard(saved[0].device());
        const int64_t heads = ctx->saved_data["heads"].toInt(), kv_heads = ctx->saved_data["kv_heads"].toInt(),
                      hd = ctx->saved_data["hd"].toInt(), rotary_dim = ctx->saved_data["rotary_dim"].toInt();
        const bool interleaved = ctx->saved_data["interleaved"].toBool();
        const auto options = grads[0].defined() ? grads[0].options() : (grads[1].defined() ? grads[1].options() : grads[2].options());
        auto dqkv = at::empty(ctx->saved_data["shape"].toIntVector(), options);
        auto parts = split_qkv(dqkv, heads, kv_heads, hd);
        for (int i = 0; i < 2; ++i) {
            if (grads[i].defined())
                rotate(unit_last_stride(grads[i]), parts[i], saved[0], saved[1], rotary_dim, interleaved, true);
            else
                parts[i].zero_();
        }
        if (grads[2].defined())
            parts[2].copy_(grads[2]);
        else
            parts[2].zero_();
        return {dqkv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

// The kernels serve: CUDA, a kernel dtype shared with the tables; gradients wanted, or a half type
// (where the forward kernel equals the reference bit for bit: gradient checkpointing's first pass
// and prefill get it too; fp32 without gradients keeps the reference's exact contractions).
bool kernel_serves(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
    DType dt;
    const bool grad = at::GradMode::is_enabled() && x.requires_grad();
    return training_kernels_enabled() && x.is_cuda() && (grad || x.scalar_type() != at::kFloat) &&
           kernel_dtype(x.scalar_type(), &dt) && cos.scalar_type() == x.scalar_type() &&
           sin.scalar_type() == x.scalar_type() && x.size(0) <= 65535 && x.size(2) <= 65535;
}
#endif

}  // namespace

at::Tensor rope_train(const Rope& rope, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
#ifdef TB_WITH_CUDA_KERNELS
    if (kernel_serves(x, cos, sin)) {
        const c10::cuda::CUDAGuard guard(x.device());
        const int64_t B = x.size(0), T = x.size(1);
        return RopeFunction::apply(x, table_rows(cos, B, T), table_rows(sin, B, T), rope.rotary_dim(), rope.interleaved());
    }
#endif
    return rope.apply(x, cos, sin);
}

std::array<at::Tensor, 3> rope_qkv(const Rope& rope, const at::Tensor& qkv, const at::Tensor& cos,
                                   const at::Tensor& sin, int64_t heads, int64_t kv_heads, int64_t head_dim) {
#ifdef TB_WITH_CUDA_KERNELS
    if (kernel_serves(qkv, cos, sin)) {
        const c10::cuda::CUDAGuard guard(qkv.device());
        const int64_t B = qkv.size(0), T = qkv.size(1);
        auto out = RopeQkvFunction::apply(qkv, table_rows(cos, B, T), table_rows(sin, B, T), heads, kv_heads, head_dim,
                                          rope.rotary_dim(), rope.interleaved());
        return {out[0], out[1], out[2]};
    }
#endif
    auto parts = split_qkv(qkv, heads, kv_heads, head_dim);
    return {rope.apply(parts[0], cos, sin), rope.apply(parts[1], cos, sin), parts[2]};
}

}  // namespace tb::kernels
