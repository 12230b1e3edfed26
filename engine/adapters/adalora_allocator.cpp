#include "adapters/adalora_allocator.h"

#include <ATen/core/grad_mode.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "model/decoder.h"

namespace tb {
namespace {
const char* const kParts[3] = {".lora_A", ".lora_B", ".lora_E"};  // Matrix's A, B, E and their EMAs
}

std::pair<int64_t, bool> adalora_budget(int64_t step, int64_t init_budget, int64_t target_budget, const LoraConfig& c) {
    if (step <= c.tinit) return {init_budget, false};
    if (step > c.total_step - c.tfinal) return {target_budget, true};
    const double mul = 1.0 - static_cast<double>(step - c.tinit) / static_cast<double>(c.total_step - c.tfinal - c.tinit);
    const auto budget = static_cast<int64_t>((init_budget - target_budget) * (mul * mul * mul) + target_budget);  // int(): truncation
    return {budget, step % c.deltaT == 0};
}

AdaLoraAllocator::AdaLoraAllocator(Model& model, const LoraConfig& c) : config_(c) {
    if (c.total_step <= 0) throw ConfigError("AdaLoRA needs total_step > 0");
    for (Linear* l : model.linears()) {
        if (!l->lora || !l->lora->E.defined()) continue;
        Matrix m{l->name, l->lora->A, l->lora->B, l->lora->E, {}, {}};
        const at::Tensor* params[3] = {&m.A, &m.B, &m.E};
        for (int i = 0; i < 3; ++i) {
            m.ipt_avg[i] = at::zeros_like(*params[i]).detach();
            m.unc_avg[i] = at::zeros_like(*params[i]).detach();
        }
        init_budget_ += m.A.size(0);
        matrices_.push_back(std::move(m));
    }
    if (matrices_.empty()) throw ConfigError("AdaLoRA: lora_target matched no module");
    target_budget_ = c.target_r * static_cast<int64_t>(matrices_.size());
    budget_ = init_budget_;
}

at::Tensor AdaLoraAllocator::orthogonal_regularization() const {
    at::Tensor sum;
    int64_t count = 0;
    for (const auto& m : matrices_) {
        for (const at::Tensor& cov : {at::mm(m.A, m.A.t()), at::mm(m.B.t(), m.B)}) {
            const auto term = (cov - at::eye(cov.size(0), cov.options())).norm();  // Frobenius, not squared
            sum = sum.defined() ? sum + term : term;
            ++count;
        }
    }
    return sum / static_cast<double>(count);
}

void AdaLoraAllocator::update_importance() {
    at::NoGradGuard no_grad;
    const double b1 = config_.beta1, b2 = config_.beta2;
    for (auto& m : matrices_) {
        const at::Tensor* params[3] = {&m.A, &m.B, &m.E};
        for (int i = 0; i < 3; ++i) {
            const at::Tensor& g = params[i]->grad();
            if (!g.defined()) continue;
            const auto ipt = (*params[i] * g).abs();
            m.ipt_avg[i] = m.ipt_avg[i] * b1 + ipt * (1 - b1);
            m.unc_avg[i] = m.unc_avg[i] * b2 + (ipt - m.ipt_avg[i]).abs() * (1 - b2);
        }
    }
}

// Each rank component's score S_i = s_E[i] + mean_j s_A[i, j] + mean_k s_B[k, i], s = ipt ⊙ unc;
// the components at or below the (init − budget)-th smallest score get E = 0.
void AdaLoraAllocator::mask_to_budget(int64_t budget) {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> scores;
    for (auto& m : matrices_) {
        const auto a = (m.ipt_avg[0] * m.unc_avg[0]).mean(1), b = (m.ipt_avg[1] * m.unc_avg[1]).mean(0);
        scores.push_back((m.ipt_avg[2] * m.unc_avg[2]).view(-1) + (a + b));
    }
    const int64_t k = init_budget_ - budget;
    // k = 0 (nothing to cut yet) would make kthvalue fail, as PEFT's does; nothing is masked then
    const double threshold =
        k > 0 ? std::get<0>(at::kthvalue(at::cat(scores), k)).item<double>() : -std::numeric_limits<double>::infinity();
    const auto host = (at::cat(scores) > threshold).to(at::kCPU);  // the kept ranks, one copy to the host
    const bool* keep = host.data_ptr<bool>();
    for (size_t i = 0; i < matrices_.size(); ++i) {
        auto& m = matrices_[i];
        m.cut = (scores[i] <= threshold).view({-1, 1});
        m.E.masked_fill_(m.cut, 0.0);
        pattern_[m.name + ".lora_E"] = std::vector<bool>(keep, keep + m.E.size(0));
        keep += m.E.size(0);
    }
}

// After the budgeting phase, every step: the masks stay on the device from the last masking (or a resume).
void AdaLoraAllocator::mask_with_pattern() {
    at::NoGradGuard no_grad;
    for (auto& m : matrices_)
        if (m.cut.defined()) m.E.masked_fill_(m.cut, 0.0);
}

bool AdaLoraAllocator::update_and_allocate(int64_t step) {
    const int64_t frozen_from = config_.total_step - config_.tfinal;
    if (step > frozen_from) {  // the pattern is final; E keeps its gradients, so re-zero it every step
        mask_with_pattern();
        return false;
    }
    if (step < frozen_from) update_importance();
    const auto [budget, mask] = adalora_budget(step, init_budget_, target_budget_, config_);
    budget_ = budget;
    if (step < frozen_from && !mask) return false;
    mask_to_budget(budget);
    if (step == frozen_from) {  // PEFT's reset_ipt
        for (auto& m : matrices_)
            for (int i = 0; i < 3; ++i) {
                m.ipt_avg[i].zero_();
                m.unc_avg[i].zero_();
            }
    }
    return true;
}

io::NamedTensors AdaLoraAllocator::state() const {
    io::NamedTensors out;
    for (const auto& m : matrices_)
        for (int i = 0; i < 3; ++i) {
            out.emplace_back(m.name + kParts[i] + ".exp_avg_ipt", m.ipt_avg[i].to(at::kCPU, at::kFloat).contiguous());
            out.emplace_back(m.name + kParts[i] + ".exp_avg_unc", m.unc_avg[i].to(at::kCPU, at::kFloat).contiguous());
        }
    return out;
}

void AdaLoraAllocator::load_state(const io::NamedTensors& state, std::map<std::string, std::vector<bool>> pattern) {
    std::map<std::string, at::Tensor> by(state.begin(), state.end());
    for (auto& m : matrices_) {
        for (int i = 0; i < 3; ++i) {
            for (auto [suffix, t] : {std::pair<const char*, at::Tensor*>{".exp_avg_ipt", &m.ipt_avg[i]}, {".exp_avg_unc", &m.unc_avg[i]}}) {
                const auto it = by.find(m.name + kParts[i] + suffix);
                if (it == by.end() || it->second.sizes() != t->sizes())
                    throw FileError("the checkpoint's AdaLoRA state lacks " + m.name + kParts[i] + suffix + " or has another shape",
                                    "resume with the same init_r, lora_target and model");
                t->copy_(it->second);
            }
        }
        const auto it = pattern.find(m.name + ".lora_E");
        if (it == pattern.end()) continue;
        if (static_cast<int64_t>(it->second.size()) != m.E.size(0))
            throw FileError("the checkpoint's rank_pattern for " + m.name + " does not have init_r entries",
                            "resume with the same init_r");
        std::vector<uint8_t> cut;
        for (bool kept : it->second) cut.push_back(!kept);
        m.cut = at::tensor(cut, at::kByte).to(m.E.device(), at::kBool).view({-1, 1});
    }
    pattern_ = std::move(pattern);
}

}  // namespace tb
