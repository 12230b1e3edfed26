// Chunked lm_head + cross-entropy as one autograd function; see linear_cross_entropy.h.
#include "kernels/linear_cross_entropy.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

namespace tb::kernels {

at::Tensor linear_cross_entropy_reference(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& labels,
                                          int64_t ignore_index) {
    return at::cross_entropy_loss(at::linear(hidden, weight).to(at::kFloat), labels, {}, at::Reduction::Sum,
                                  ignore_index);
}

namespace {

// One chunk's fp32 logits and its rows' targets (ignored rows point at class 0 and are masked).
struct Chunk {
    at::Tensor logits, target, valid;  // [n, V] fp32, [n] int64, [n] fp32 (1 = counted)
};

Chunk chunk_logits(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& labels, int64_t ignore_index,
                   int64_t start, int64_t rows) {
    auto l = labels.narrow(0, start, rows);
    auto valid = l.ne(ignore_index);
    return {at::linear(hidden.narrow(0, start, rows), weight).to(at::kFloat), at::where(valid, l, 0),
            valid.to(at::kFloat)};
}

struct LinearCrossEntropy : torch::autograd::Function<LinearCrossEntropy> {
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& hidden, const at::Tensor& weight,
                              const at::Tensor& labels, int64_t ignore_index, int64_t rows) {
        const int64_t N = hidden.size(0);
        auto lse = at::empty({N}, hidden.options().dtype(at::kFloat));
        auto loss = at::zeros({}, hidden.options().dtype(at::kFloat));
        for (int64_t s = 0; s < N; s += rows) {
            const int64_t n = std::min(rows, N - s);
            auto c = chunk_logits(hidden, weight, labels, ignore_index, s, n);
            auto row_lse = at::logsumexp(c.logits, -1);
            auto picked = c.logits.gather(1, c.target.unsqueeze(1)).squeeze(1);
            loss.add_(((row_lse - picked) * c.valid).sum());
            lse.narrow(0, s, n).copy_(row_lse);
        }
        ctx->save_for_backward({hidden, weight, labels, lse});
        ctx->saved_data["ignore_index"] = ignore_index;
        ctx->saved_data["rows"] = rows;
        return loss;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto &hidden = saved[0], &weight = saved[1], &labels = saved[2], &lse = saved[3];
        const int64_t ignore_index = ctx->saved_data["ignore_index"].toInt();
        const int64_t rows = ctx->saved_data["rows"].toInt();
        const bool weight_grad = ctx->needs_input_grad(1);
        const int64_t N = hidden.size(0);
        auto grad_hidden = at::empty_like(hidden);
        at::Tensor grad_weight = weight_grad ? at::zeros(weight.sizes(), weight.options().dtype(at::kFloat)) : at::Tensor();
        const auto g = grads[0].to(at::kFloat);
        for (int64_t s = 0; s < N; s += rows) {
            const int64_t n = std::min(rows, N - s);
            auto c = chunk_logits(hidden, weight, labels, ignore_index, s, n);
            // d loss / d logits = softmax - one_hot(target), for counted rows, times the loss's gradient
            auto p = (c.logits - lse.narrow(0, s, n).unsqueeze(1)).exp_();
            p.scatter_add_(1, c.target.unsqueeze(1), c.valid.neg().unsqueeze(1));
            p.mul_((c.valid * g).unsqueeze(1));
            auto d = p.to(hidden.scalar_type());  // as the reference's cast to fp32 passes its gradient back
            grad_hidden.narrow(0, s, n).copy_(at::mm(d, weight));
            if (weight_grad) grad_weight.add_(at::mm(d.t(), hidden.narrow(0, s, n)).to(at::kFloat));
        }
        return {grad_hidden, weight_grad ? grad_weight.to(weight.scalar_type()) : at::Tensor(), at::Tensor(),
                at::Tensor(), at::Tensor()};
    }
};

}  // namespace

at::Tensor linear_cross_entropy(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& labels,
                                int64_t ignore_index, int64_t chunk_elements) {
    const int64_t rows = std::max<int64_t>(1, chunk_elements / std::max<int64_t>(1, weight.size(0)));
    return LinearCrossEntropy::apply(hidden, weight, labels, ignore_index, rows);
}

}  // namespace tb::kernels
