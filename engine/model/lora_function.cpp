// LoRA's training path as one autograd node; see lora_function.h.
#include "model/lora_function.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include "model/linear.h"

namespace tb {
namespace {

struct LoraFunction : torch::autograd::Function<LoraFunction> {
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& y, const at::Tensor& x,
                              const at::Tensor& A, const at::Tensor& B, double scaling) {
        const auto ct = y.scalar_type();
        const int64_t out = y.size(-1);
        auto x2 = x.to(ct).reshape({-1, x.size(-1)});
        auto Ac = A.to(ct), Bc = B.to(ct);
        auto u = at::mm(x2, Ac.t());  // [tokens, r]
        auto result = at::addmm(y.reshape({-1, out}), u, Bc.t(), /*beta=*/1, /*alpha=*/scaling);
        ctx->save_for_backward({x2, u, Ac, Bc});
        ctx->saved_data["scaling"] = scaling;
        ctx->saved_data["x_dtype"] = static_cast<int64_t>(x.scalar_type());
        ctx->saved_data["x_shape"] = x.sizes().vec();
        ctx->saved_data["A_dtype"] = static_cast<int64_t>(A.scalar_type());
        ctx->saved_data["B_dtype"] = static_cast<int64_t>(B.scalar_type());
        return result.view(y.sizes());
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto &x2 = saved[0], &u = saved[1], &Ac = saved[2], &Bc = saved[3];
        const double scaling = ctx->saved_data["scaling"].toDouble();
        const auto& dy = grads[0];
        auto dy2 = dy.to(u.scalar_type()).reshape({-1, Bc.size(0)});
        // the scaling goes on the [tokens, r] factors, not on the large products
        auto v = at::mm(dy2, Bc).mul_(scaling);  // d(x Aᵀ): [tokens, r]
        at::Tensor dx, dA, dB;
        if (ctx->needs_input_grad(1)) {
            const auto x_dtype = static_cast<at::ScalarType>(ctx->saved_data["x_dtype"].toInt());
            dx = at::mm(v, Ac).to(x_dtype).view(ctx->saved_data["x_shape"].toIntVector());
        }
        if (ctx->needs_input_grad(2))
            dA = at::mm(v.t(), x2).to(static_cast<at::ScalarType>(ctx->saved_data["A_dtype"].toInt()));
        if (ctx->needs_input_grad(3))
            dB = at::mm(dy2.t(), u * scaling).to(static_cast<at::ScalarType>(ctx->saved_data["B_dtype"].toInt()));
        return {dy, dx, dA, dB, at::Tensor()};
    }
};

}  // namespace

at::Tensor add_lora(const at::Tensor& y, const at::Tensor& x, const LoraWeights& lora) {
    return LoraFunction::apply(y, x, lora.effective_A(), lora.B, lora.scaling);  // AdaLoRA: autograd carries dA to A and E
}

}  // namespace tb
