// AdaLoRA's training-time parts as PEFT implements them (FORMATS.md §5.3–5.5): the orthogonal
// regulariser added to the loss, and the RankAllocator — importance EMAs of |p ⊙ ∇p|, the cubic
// budget schedule, masking the least important singular values (E) to the budget — driven once per
// optimizer step, after the step and before the gradients are cleared.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "adapters/lora_config.h"
#include "io/tensor_io.h"

namespace tb {

class Model;

// PEFT's RankAllocator.budget_schedule: the rank budget at `step` and whether to mask then.
std::pair<int64_t, bool> adalora_budget(int64_t step, int64_t init_budget, int64_t target_budget, const LoraConfig& c);

class AdaLoraAllocator {
public:
    // Every adapted linear of `model` (its LoraWeights carry E); c.total_step must be set.
    AdaLoraAllocator(Model& model, const LoraConfig& c);

    // Σ over lora_A and lora_B of ‖P − I‖_F (P = A Aᵀ, Bᵀ B), divided by their count; times
    // orth_reg_weight it joins the loss (differentiable).
    at::Tensor orthogonal_regularization() const;

    // PEFT's AdaLoraModel.update_and_allocate(global_step): needs the step's gradients. Returns true
    // when the rank pattern changed (rank_pattern() then holds the new one).
    bool update_and_allocate(int64_t global_step);
    const std::map<std::string, std::vector<bool>>& rank_pattern() const { return pattern_; }
    int64_t budget() const { return budget_; }

    // The EMAs for checkpoints ("<module>.lora_X.exp_avg_ipt" / ".exp_avg_unc", fp32, CPU) and back.
    io::NamedTensors state() const;
    void load_state(const io::NamedTensors& state, std::map<std::string, std::vector<bool>> pattern);

private:
    struct Matrix {
        std::string name;  // the linear's name; rank-pattern key name + ".lora_E"
        at::Tensor A, B, E;
        at::Tensor ipt_avg[3], unc_avg[3];  // A, B, E
        at::Tensor cut;  // [r, 1] bool on E's device: the ranks the current pattern zeroes
    };
    void update_importance();
    void mask_to_budget(int64_t budget);
    void mask_with_pattern();

    LoraConfig config_;
    std::vector<Matrix> matrices_;
    std::map<std::string, std::vector<bool>> pattern_;
    int64_t init_budget_ = 0, target_budget_ = 0, budget_ = 0;
};

}  // namespace tb
