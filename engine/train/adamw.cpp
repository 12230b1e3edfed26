// torch/optim/adamw.py: _multi_tensor_adamw (step) and _single_tensor_adamw (step_reference).
#include "train/adamw.h"

#include <ATen/core/grad_mode.h>

#include <cmath>
#include <map>

#include "core/error.h"

namespace tb {

AdamW::AdamW(std::vector<std::pair<std::string, at::Tensor>> params, AdamWOptions options)
    : params_(std::move(params)), o_(options) {
    for (const auto& [name, p] : params_) {
        exp_avg_.push_back(at::zeros_like(p, p.options().dtype(at::kFloat)));
        exp_avg_sq_.push_back(at::zeros_like(p, p.options().dtype(at::kFloat)));
    }
}

std::pair<double, double> AdamW::next_step(double lr) {
    ++step_;
    const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(step_));
    const double bc2 = 1.0 - std::pow(o_.beta2, static_cast<double>(step_));
    return {lr / bc1, std::sqrt(bc2)};
}

void AdamW::step(double lr) {
    at::NoGradGuard no_grad;
    const auto [step_size, bc2_sqrt] = next_step(lr);
    // torch's _multi_tensor_adamw: every op once over the list of parameters (a few fused kernels
    // on a GPU instead of ~10 per parameter), in fp32 whatever the parameter dtype
    std::vector<at::Tensor> w, g, m, v;
    std::vector<size_t> updated;  // the parameters with a gradient, in order
    for (size_t i = 0; i < params_.size(); ++i) {
        auto& p = params_[i].second;
        if (!p.grad().defined()) continue;
        updated.push_back(i);
        g.push_back(p.grad().to(at::kFloat));
        w.push_back(p.scalar_type() == at::kFloat ? p : p.to(at::kFloat));
        m.push_back(exp_avg_[i]);
        v.push_back(exp_avg_sq_[i]);
    }
    if (w.empty()) return;
    at::_foreach_mul_(w, 1.0 - lr * o_.weight_decay);
    at::_foreach_lerp_(m, g, 1.0 - o_.beta1);
    at::_foreach_mul_(v, o_.beta2);
    at::_foreach_addcmul_(v, g, g, 1.0 - o_.beta2);
    auto denom = at::_foreach_sqrt(v);
    at::_foreach_div_(denom, bc2_sqrt);
    at::_foreach_add_(denom, o_.eps);
    at::_foreach_addcdiv_(w, m, denom, -step_size);
    for (size_t k = 0; k < updated.size(); ++k) {  // parameters below fp32 take their fp32 copy back
        auto& p = params_[updated[k]].second;
        if (p.scalar_type() != at::kFloat) p.copy_(w[k]);
    }
}

void AdamW::step_reference(double lr) {
    at::NoGradGuard no_grad;
    const auto [step_size, bc2_sqrt] = next_step(lr);
    for (size_t i = 0; i < params_.size(); ++i) {
        auto& p = params_[i].second;
        if (!p.grad().defined()) continue;
        auto g = p.grad().to(at::kFloat);
        auto w = p.scalar_type() == at::kFloat ? p : p.to(at::kFloat);
        w.mul_(1.0 - lr * o_.weight_decay);
        exp_avg_[i].lerp_(g, 1.0 - o_.beta1);
        exp_avg_sq_[i].mul_(o_.beta2).addcmul_(g, g, 1.0 - o_.beta2);
        auto denom = (exp_avg_sq_[i].sqrt() / bc2_sqrt).add_(o_.eps);
        w.addcdiv_(exp_avg_[i], denom, -step_size);
        if (p.scalar_type() != at::kFloat) p.copy_(w);
    }
}

void AdamW::zero_grad() {
    for (auto& [name, p] : params_) {
        if (p.grad().defined()) p.mutable_grad() = at::Tensor();
    }
}

at::Tensor AdamW::clip_grad_norm(double max_norm) {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> grads, grads32;
    for (auto& [name, p] : params_) {
        if (!p.grad().defined()) continue;
        grads.push_back(p.grad());
        grads32.push_back(p.grad().to(at::kFloat));
    }
    if (grads.empty()) return at::zeros({}, at::TensorOptions().dtype(at::kFloat));
    auto total = at::stack(at::_foreach_norm(grads32)).norm();
    // torch.nn.utils.clip_grad_norm_: scaled by min(1, max_norm / (norm + 1e-6)) on the device, no sync
    if (max_norm > 0) at::_foreach_mul_(grads, (max_norm / (total + 1e-6)).clamp_max(1.0));
    return total;
}

bool AdamW::grads_finite() const {
    for (const auto& [name, p] : params_) {
        if (p.grad().defined() && !at::isfinite(p.grad()).all().item<bool>()) return false;
    }
    return true;
}

void AdamW::scale_grads(double factor) {
    at::NoGradGuard no_grad;
    for (auto& [name, p] : params_)
        if (p.grad().defined()) p.mutable_grad().mul_(factor);
}

io::NamedTensors AdamW::state() const {
    io::NamedTensors out;
    out.emplace_back("step", at::tensor(std::vector<int64_t>{step_}));
    for (size_t i = 0; i < params_.size(); ++i) {
        out.emplace_back(params_[i].first + ".exp_avg", exp_avg_[i].to(at::kCPU).contiguous());
        out.emplace_back(params_[i].first + ".exp_avg_sq", exp_avg_sq_[i].to(at::kCPU).contiguous());
    }
    return out;
}

void AdamW::load_state(const io::NamedTensors& state) {
    std::map<std::string, at::Tensor> byname(state.begin(), state.end());
    auto get = [&](const std::string& key, const at::Tensor& like) {
        auto it = byname.find(key);
        if (it == byname.end() || it->second.sizes() != like.sizes()) {
            throw FileError("optimizer state has no matching '" + key + "'",
                            "the checkpoint belongs to another run (different lora_target, rank or model)");
        }
        return it->second.to(like.device(), at::kFloat);
    };
    auto it = byname.find("step");
    if (it == byname.end()) throw FileError("optimizer state has no 'step'");
    step_ = it->second.item<int64_t>();
    for (size_t i = 0; i < params_.size(); ++i) {
        exp_avg_[i] = get(params_[i].first + ".exp_avg", exp_avg_[i]);
        exp_avg_sq_[i] = get(params_[i].first + ".exp_avg_sq", exp_avg_sq_[i]);
    }
}

}  // namespace tb
