// Chunked lm_head + cross-entropy as one autograd function; see linear_cross_entropy.h.
#include "kernels/linear_cross_entropy.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

#include "core/error.h"
#include "kernels/training_kernels.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/cross_entropy_cuda.h"
#include "kernels/kernel_dtype.h"
#endif

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

#ifdef TB_WITH_CUDA_KERNELS
// The chunk's logits in the model dtype and the kernels' view of its rows.
struct KernelChunk {
    at::Tensor logits, target, valid;
    CrossEntropyRowsArgs args;
};

KernelChunk kernel_chunk(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& labels,
                         int64_t ignore_index, int64_t start, int64_t rows) {
    KernelChunk k;
    k.logits = at::linear(hidden.narrow(0, start, rows), weight).contiguous();
    auto l = labels.narrow(0, start, rows);
    auto valid = l.ne(ignore_index);
    k.target = at::where(valid, l, 0).contiguous();
    k.valid = valid.to(at::kFloat).contiguous();
    DType dt = DType::F32;
    kernel_dtype(k.logits.scalar_type(), &dt);
    k.args = CrossEntropyRowsArgs{k.logits.data_ptr(), k.target.data_ptr<int64_t>(), k.valid.data_ptr<float>(),
                                  nullptr, nullptr, nullptr, nullptr, rows, k.logits.size(1), dt,
                                  c10::cuda::getCurrentCUDAStream().stream()};
    return k;
}

void check(cudaError_t err) {
    if (err != cudaSuccess) throw Error(std::string("cross-entropy CUDA kernel failed: ") + cudaGetErrorString(err));
}
#endif

// The CUDA kernels serve (CUDA tensors in a kernel dtype); else the chunks run as ATen ops.
bool kernels_serve(const at::Tensor& hidden) {
#ifdef TB_WITH_CUDA_KERNELS
    DType dt;
    return training_kernels_enabled() && hidden.is_cuda() && kernel_dtype(hidden.scalar_type(), &dt);
#else
    (void)hidden;
    return false;
#endif
}

struct LinearCrossEntropy : torch::autograd::Function<LinearCrossEntropy> {
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& hidden, const at::Tensor& weight,
                              const at::Tensor& labels, int64_t ignore_index, int64_t rows) {
        const int64_t N = hidden.size(0);
        auto lse = at::empty({N}, hidden.options().dtype(at::kFloat));
        auto loss = at::zeros({}, hidden.options().dtype(at::kFloat));
        const bool kernels = kernels_serve(hidden);
        ctx->saved_data["kernels"] = kernels;
#ifdef TB_WITH_CUDA_KERNELS
        if (kernels) {
            const c10::cuda::CUDAGuard guard(hidden.device());
            auto row_loss = at::empty({N}, lse.options());
            // With a frozen lm_head the hidden states' gradient for a unit loss gradient is made
            // here, from the logits already in hand (Liger's fused linear cross-entropy): the
            // backward only scales it, instead of computing every chunk's logits again.
            const bool grad_now = hidden.requires_grad() && !weight.requires_grad();
            at::Tensor unit_grad_hidden, one;
            if (grad_now) {
                unit_grad_hidden = at::empty_like(hidden);
                one = at::ones({}, lse.options());
            }
            for (int64_t s = 0; s < N; s += rows) {
                const int64_t n = std::min(rows, N - s);
                auto k = kernel_chunk(hidden, weight, labels, ignore_index, s, n);
                k.args.lse = lse.data_ptr<float>() + s;
                k.args.loss = row_loss.data_ptr<float>() + s;
                check(cross_entropy_rows_forward(k.args));
                if (grad_now) {
                    k.args.grad = one.data_ptr<float>();
                    k.args.grad_logits = k.logits.data_ptr();  // in place: each element is read once, first
                    check(cross_entropy_rows_backward(k.args));
                    auto rows_out = unit_grad_hidden.narrow(0, s, n);
                    at::mm_out(rows_out, k.logits, weight);
                }
            }
            loss.add_(row_loss.sum());
            if (grad_now) {
                ctx->save_for_backward({unit_grad_hidden});
                ctx->saved_data["grad_in_forward"] = true;
                return loss;
            }
            ctx->saved_data["grad_in_forward"] = false;
            ctx->save_for_backward({hidden, weight, labels, lse});
            ctx->saved_data["ignore_index"] = ignore_index;
            ctx->saved_data["rows"] = rows;
            return loss;
        }
#endif
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
        if (ctx->saved_data.count("grad_in_forward") && ctx->saved_data["grad_in_forward"].toBool()) {
            return {saved[0] * grads[0].to(at::kFloat), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
        }
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
#ifdef TB_WITH_CUDA_KERNELS
            if (ctx->saved_data["kernels"].toBool()) {
                const c10::cuda::CUDAGuard guard(hidden.device());
                auto k = kernel_chunk(hidden, weight, labels, ignore_index, s, n);
                auto gc = g.contiguous();
                auto d = at::empty_like(k.logits);
                k.args.lse = lse.data_ptr<float>() + s;
                k.args.grad = gc.data_ptr<float>();
                k.args.grad_logits = d.data_ptr();
                check(cross_entropy_rows_backward(k.args));
                auto rows_out = grad_hidden.narrow(0, s, n);  // whole rows of a contiguous tensor
                at::mm_out(rows_out, d, weight);
                if (weight_grad) grad_weight.add_(at::mm(d.t(), hidden.narrow(0, s, n)).to(at::kFloat));
                continue;
            }
#endif
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
