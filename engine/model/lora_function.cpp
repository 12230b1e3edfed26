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

// The same for n linears: inputs ys (n), x, As (n), Bs (n), then the scalings.
struct LoraGroupFunction : torch::autograd::Function<LoraGroupFunction> {
    // (lists as at::TensorList: autograd counts their tensors as inputs; a std::vector would be one opaque argument)
    static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, at::TensorList ys, const at::Tensor& x,
                                                  at::TensorList As, at::TensorList Bs, std::vector<double> scalings) {
        const auto ct = ys[0].scalar_type();
        const size_t n = ys.size();
        auto x2 = x.to(ct).reshape({-1, x.size(-1)});
        std::vector<at::Tensor> Ac, saved = {x2};
        std::vector<int64_t> ranks;
        for (size_t i = 0; i < n; ++i) {
            Ac.push_back(As[i].to(ct));
            ranks.push_back(As[i].size(0));
        }
        auto A = at::cat(Ac, 0);      // [Σr, in]
        auto u = at::mm(x2, A.t());  // [tokens, Σr]
        saved.push_back(u);
        saved.push_back(A);
        torch::autograd::variable_list out;
        for (size_t i = 0, offset = 0; i < n; offset += ranks[i], ++i) {
            auto Bc = Bs[i].to(ct);
            saved.push_back(Bc);
            const int64_t width = ys[i].size(-1);
            out.push_back(at::addmm(ys[i].reshape({-1, width}), u.narrow(1, offset, ranks[i]), Bc.t(), 1, scalings[i])
                              .view(ys[i].sizes()));
        }
        ctx->save_for_backward(saved);
        ctx->saved_data["scalings"] = scalings;
        ctx->saved_data["ranks"] = ranks;
        ctx->saved_data["x_dtype"] = static_cast<int64_t>(x.scalar_type());
        ctx->saved_data["x_shape"] = x.sizes().vec();
        ctx->saved_data["A_dtype"] = static_cast<int64_t>(As[0].scalar_type());
        ctx->saved_data["B_dtype"] = static_cast<int64_t>(Bs[0].scalar_type());
        return out;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto &x2 = saved[0], &u = saved[1], &A = saved[2];
        const auto scalings = ctx->saved_data["scalings"].toDoubleVector();
        const auto ranks = ctx->saved_data["ranks"].toIntVector();
        const auto A_dtype = static_cast<at::ScalarType>(ctx->saved_data["A_dtype"].toInt());
        const auto B_dtype = static_cast<at::ScalarType>(ctx->saved_data["B_dtype"].toInt());
        const size_t n = ranks.size();
        torch::autograd::variable_list result(3 * n + 2);
        std::vector<at::Tensor> v;  // d(x Aᵢᵀ), scaled: [tokens, rᵢ]
        for (size_t i = 0, offset = 0; i < n; offset += ranks[i], ++i) {
            const auto& Bc = saved[3 + i];
            if (!grads[i].defined()) {  // an output that reached no loss
                v.push_back(at::zeros({u.size(0), ranks[i]}, u.options()));
                continue;
            }
            auto dy2 = grads[i].to(u.scalar_type()).reshape({-1, Bc.size(0)});
            v.push_back(at::mm(dy2, Bc).mul_(scalings[i]));
            result[i] = grads[i];
            if (ctx->needs_input_grad(2 * n + 1 + i))
                result[2 * n + 1 + i] = at::mm(dy2.t(), u.narrow(1, offset, ranks[i]) * scalings[i]).to(B_dtype);
        }
        auto V = at::cat(v, 1);  // [tokens, Σr]
        if (ctx->needs_input_grad(n)) {
            const auto x_dtype = static_cast<at::ScalarType>(ctx->saved_data["x_dtype"].toInt());
            result[n] = at::mm(V, A).to(x_dtype).view(ctx->saved_data["x_shape"].toIntVector());
        }
        auto dA = at::mm(V.t(), x2);  // [Σr, in]
        for (size_t i = 0, offset = 0; i < n; offset += ranks[i], ++i)
            if (ctx->needs_input_grad(n + 1 + i)) result[n + 1 + i] = dA.narrow(0, offset, ranks[i]).to(A_dtype);
        return result;
    }
};

}  // namespace

std::vector<at::Tensor> add_lora_group(const std::vector<at::Tensor>& ys, const at::Tensor& x,
                                       const std::vector<const LoraWeights*>& loras) {
    torch::autograd::variable_list As, Bs;
    std::vector<double> scalings;
    for (const auto* l : loras) {
        As.push_back(l->A);
        Bs.push_back(l->B);
        scalings.push_back(l->scaling);
    }
    return LoraGroupFunction::apply(at::TensorList(ys), x, at::TensorList(As), at::TensorList(Bs), scalings);
}

at::Tensor add_lora(const at::Tensor& y, const at::Tensor& x, const LoraWeights& lora) {
    return LoraFunction::apply(y, x, lora.A, lora.B, lora.scaling);
}

}  // namespace tb
