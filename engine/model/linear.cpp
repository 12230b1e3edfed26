// Linear forward with optional quantized base and LoRA, matching PEFT's dtype handling:
// unquantized base: (base(x) + lora(x)) computed with type promotion, cast back once;
// 4/8-bit base (bnb.py): the LoRA output is cast to the base output's dtype before adding.
#include "model/linear.h"

#include <c10/core/GradMode.h>

#include "kernels/quantized_gemv.h"
#include "model/lora_function.h"
#include "model/quantization.h"
#include "model/quantized_matmul.h"

namespace tb {

namespace {
thread_local bool t_training = false;
}

bool training_mode() { return t_training; }
TrainingModeGuard::TrainingModeGuard(bool on) : previous_(t_training) { t_training = on; }
TrainingModeGuard::~TrainingModeGuard() { t_training = previous_; }

at::Tensor Linear::dense_weight() const { return quant ? quant->dequantize() : weight; }

int64_t Linear::out_features() const { return quant ? quant->shape[0] : weight.size(0); }
int64_t Linear::in_features() const { return quant ? quant->shape[1] : weight.size(1); }

namespace {
// The base weight alone serves (dense, no bias, no adapter applied) in the residual's dtype.
bool plain_for(const Linear& l, const at::Tensor& residual, const at::Tensor& x, const AdapterRows& adapter) {
    return !l.quant && !l.bias.defined() && (!l.lora || !adapter.on) && l.weight.defined() &&
           residual.scalar_type() == l.weight.scalar_type() && x.scalar_type() == l.weight.scalar_type();
}
}  // namespace

at::Tensor Linear::plus(const at::Tensor& residual, const at::Tensor& x, const AdapterRows& adapter) const {
    if (!plain_for(*this, residual, x, adapter)) return residual + (*this)(x, adapter);
    return at::addmm(residual.reshape({-1, residual.size(-1)}), x.reshape({-1, x.size(-1)}), weight.t())
        .view(residual.sizes());
}

at::Tensor& Linear::accumulate(at::Tensor& residual, const at::Tensor& x, const AdapterRows& adapter) const {
    if (quant && !bias.defined() && (!lora || !adapter.on) && !x.requires_grad() && x.scalar_type() == quant->compute_dtype &&
        residual.scalar_type() == quant->compute_dtype)
        return kernels::quantized_gemv_accumulate(residual, x, *quant);  // the add in the kernel's epilogue
    const bool plain = plain_for(*this, residual, x, adapter) && residual.is_contiguous();
    if (!plain) return residual.add_((*this)(x, adapter));
    auto out = residual.view({-1, residual.size(-1)});
    out.addmm_(x.reshape({-1, x.size(-1)}), weight.t());
    return residual;
}

at::Tensor Linear::operator()(const at::Tensor& x, const AdapterRows& adapter) const {
    at::Tensor y;
    if (quant) {
        y = quantized_linear(x.to(quant->compute_dtype), *quant, bias.defined() ? bias.to(quant->compute_dtype) : bias)
                .to(x.scalar_type());
    } else {
        y = at::linear(x, weight, bias);
    }
    if (!lora || !adapter.on) return y;
    // training (gradients for the adapter, or training mode's forward without them: gradient
    // checkpointing's first pass, which must compute what its recomputation will) without dropout
    // or a row mask: one autograd node
    const bool trains = at::GradMode::is_enabled() &&
                        (lora->A.requires_grad() || lora->B.requires_grad() || (lora->E.defined() && lora->E.requires_grad()));
    if ((trains || t_training) && !adapter.mask.defined() && (lora->dropout == 0 || !t_training))
        return add_lora(y, x, *lora);
    auto h = x.to(lora->A.scalar_type());
    if (lora->dropout > 0 && t_training) h = at::dropout(h, lora->dropout, /*train=*/true);
    auto delta = at::linear(at::linear(h, lora->effective_A()), lora->B) * lora->scaling;
    if (adapter.mask.defined()) {  // rows without the adapter add 0: y unchanged after the cast back
        std::vector<int64_t> shape(delta.dim(), 1);
        shape[0] = delta.size(0);
        delta = delta * adapter.mask.to(delta.scalar_type()).view(shape);
    }
    if (quant) return y + delta.to(y.scalar_type());
    return (y + delta).to(y.scalar_type());
}

}  // namespace tb
