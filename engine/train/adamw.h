// AdamW as torch.optim.AdamW computes it (decoupled weight decay first, then bias-corrected
// moments), over all parameters at once as its foreach path does, on named parameters so its state
// can be saved by name and resumed bit for bit. Moments are fp32 whatever the parameter dtype.
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "io/tensor_io.h"

namespace tb {

struct AdamWOptions {
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
};

class AdamW {
public:
    AdamW(std::vector<std::pair<std::string, at::Tensor>> params, AdamWOptions options);
    void step(double lr);  // uses each parameter's .grad(); parameters without a grad are skipped
    // The same update one parameter at a time (torch's _single_tensor_adamw): the reference step() is
    // tested against, bit for bit on the CPU.
    void step_reference(double lr);
    void zero_grad();
    int64_t steps() const { return step_; }

    // Global L2 norm of all grads (an fp32 scalar on their device, not read back), grads scaled to
    // max_norm if larger (clip_grad_norm_).
    at::Tensor clip_grad_norm(double max_norm);
    bool grads_finite() const;
    void scale_grads(double factor);

    io::NamedTensors state() const;  // "<name>.exp_avg", "<name>.exp_avg_sq", "step"
    void load_state(const io::NamedTensors& state);  // FileError when names or shapes differ
    const std::vector<std::pair<std::string, at::Tensor>>& params() const { return params_; }

private:
    std::pair<double, double> next_step(double lr);  // counts the step; (lr / bias correction 1, √bias correction 2)
    std::vector<std::pair<std::string, at::Tensor>> params_;
    std::vector<at::Tensor> exp_avg_, exp_avg_sq_;
    AdamWOptions o_;
    int64_t step_ = 0;
};

}  // namespace tb
