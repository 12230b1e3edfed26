// A named linear layer: `name` is its checkpoint path without ".weight", so loading, adapters
// and export need no mapping tables. It may carry a LoRA adapter (trained or loaded) and may keep
// its base weight quantized (QLoRA), dequantized on the fly for each call.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>

namespace tb {

struct QuantizedWeight;

// PEFT LoRA on one linear: y = base(x) + B(A(dropout(x))) * scaling (MODELS.md §5.1). AdaLoRA
// (FORMATS.md §5) adds E: y = base(x) + B((A ⊙ E)(dropout(x))) * scaling, E scaling A's rows.
struct LoraWeights {
    at::Tensor A;  // [r, in], fp32 while training
    at::Tensor B;  // [out, r]
    at::Tensor E;  // AdaLoRA's [r, 1] singular values; undefined for LoRA
    double scaling = 1.0;
    double dropout = 0.0;  // applied only in training mode, as nn.Dropout in train()
    // A as the product uses it: A ⊙ E for AdaLoRA (differentiable in both), else A itself.
    at::Tensor effective_A() const { return E.defined() ? A * E : A; }
};

// Training mode (nn.Module.train()) for the calling thread: LoRA dropout is active only inside.
bool training_mode();
class TrainingModeGuard {
public:
    explicit TrainingModeGuard(bool on);
    ~TrainingModeGuard();
    TrainingModeGuard(const TrainingModeGuard&) = delete;
    TrainingModeGuard& operator=(const TrainingModeGuard&) = delete;

private:
    bool previous_;
};

// Which rows of a batch get an unmerged LoRA adapter: all (true), none (false: PEFT's
// disable_adapter() for this call), or the rows whose entry of `mask` ([B] fp32, 1 or 0) is 1 —
// one batch decoding the tuned model's and the base model's answers side by side.
struct AdapterRows {
    AdapterRows(bool on = true) : on(on) {}  // NOLINT: a bool means every row or none
    explicit AdapterRows(at::Tensor mask) : on(true), mask(std::move(mask)) {}
    bool on;
    at::Tensor mask;
};

struct Linear {
    std::string name;
    at::Tensor weight;  // [out, in]; undefined when `quant` holds it
    at::Tensor bias;    // [out] or undefined
    std::shared_ptr<QuantizedWeight> quant;
    std::shared_ptr<LoraWeights> lora;

    // adapter = false is PEFT's disable_adapter() for this call: an unmerged LoRA stays loaded but
    // is not applied, so one model in memory answers as base and as tuned (or both, row by row).
    // The caller (a run context, a forward's options) says which; there is no global switch.
    at::Tensor operator()(const at::Tensor& x, const AdapterRows& adapter = true) const;
    // residual += this(x) in place, as one GEMM accumulating into the residual (beta = 1) where the
    // weight is plain (dense, no bias, no applied LoRA): the decode step's fused residual add, with
    // no copy and no add kernel. In half types the sum is rounded once instead of twice. The
    // residual must be contiguous and the caller's own (it is overwritten); returns it.
    at::Tensor& accumulate(at::Tensor& residual, const at::Tensor& x, const AdapterRows& adapter = true) const;
    // residual + this(x), out of place (autograd records it): one GEMM adding into a copy of the
    // residual (beta = 1) where the weight is plain, as accumulate does; else the separate add.
    at::Tensor plus(const at::Tensor& residual, const at::Tensor& x, const AdapterRows& adapter = true) const;
    // The base weight in its compute dtype (dequantized when quantized).
    at::Tensor dense_weight() const;
    int64_t out_features() const;
    int64_t in_features() const;
};

}  // namespace tb
