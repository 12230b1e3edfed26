// Linear forward with optional quantized base and LoRA, matching PEFT's dtype handling:
// unquantized base: (base(x) + lora(x)) computed with type promotion, cast back once;
// 4/8-bit base (bnb.py): the LoRA output is cast to the base output's dtype before adding.
#include "model/linear.h"

#include <c10/core/GradMode.h>

#include <algorithm>

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
// Training (gradients for the adapter, or training mode's forward without them: gradient
// checkpointing's first pass, which must compute what its recomputation will) without dropout or
// a row mask: the adapter is one autograd node.
bool lora_as_one_node(const Linear& l, const AdapterRows& adapter) {
    if (!l.lora || !adapter.on || adapter.mask.defined()) return false;
    const bool trains = at::GradMode::is_enabled() && (l.lora->A.requires_grad() || l.lora->B.requires_grad());
    return (trains || t_training) && (l.lora->dropout == 0 || !t_training);
}

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
    if (lora_as_one_node(*this, adapter)) return add_lora(y, x, *lora);
    auto h = x.to(lora->A.scalar_type());
    if (lora->dropout > 0 && t_training) h = at::dropout(h, lora->dropout, /*train=*/true);
    auto delta = at::linear(at::linear(h, lora->A), lora->B) * lora->scaling;
    if (adapter.mask.defined()) {  // rows without the adapter add 0: y unchanged after the cast back
        std::vector<int64_t> shape(delta.dim(), 1);
        shape[0] = delta.size(0);
        delta = delta * adapter.mask.to(delta.scalar_type()).view(shape);
    }
    if (quant) return y + delta.to(y.scalar_type());
    return (y + delta).to(y.scalar_type());
}

std::vector<at::Tensor> apply_linears(const std::vector<const Linear*>& linears, const at::Tensor& x,
                                      const AdapterRows& adapter) {
    std::vector<at::Tensor> out(linears.size()), ys;
    std::vector<size_t> grouped;
    std::vector<const LoraWeights*> loras;
    for (size_t i = 0; i < linears.size(); ++i) {
        if (lora_as_one_node(*linears[i], adapter)) {
            grouped.push_back(i);
            ys.push_back((*linears[i])(x, false));  // the base output
            loras.push_back(linears[i]->lora.get());
        } else {
            out[i] = (*linears[i])(x, adapter);
        }
    }
    const bool one_dtype = std::all_of(ys.begin(), ys.end(), [&](const at::Tensor& y) { return y.scalar_type() == ys[0].scalar_type(); });
    if (grouped.size() > 1 && one_dtype) {
        auto sums = add_lora_group(ys, x, loras);
        for (size_t j = 0; j < grouped.size(); ++j) out[grouped[j]] = sums[j];
    } else {
        for (size_t j = 0; j < grouped.size(); ++j) out[grouped[j]] = add_lora(ys[j], x, *loras[j]);
    }
    return out;
}

}  // namespace tb
