// torch/optim/adamw.py _single_tensor_adamw, step by step.
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

void AdamW::step(double lr) {
    at::NoGradGuard no_grad;
    ++step_;
    const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(step_));
    const double bc2 = 1.0 - std::pow(o_.beta2, static_cast<double>(step_));
    const double step_size = lr / bc1, bc2_sqrt = std::sqrt(bc2);
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

double AdamW::clip_grad_norm(double max_norm) {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> norms;
    for (auto& [name, p] : params_)
        if (p.grad().defined()) norms.push_back(p.grad().to(at::kFloat).norm());
    if (norms.empty()) return 0;
    const double total = at::stack(norms).norm().item<double>();
    if (max_norm > 0) {
        const double coef = max_norm / (total + 1e-6);
        if (coef < 1.0) {
            for (auto& [name, p] : params_)
                if (p.grad().defined()) p.mutable_grad().mul_(coef);
        }
    }
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
