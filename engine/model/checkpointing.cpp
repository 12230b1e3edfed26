// A custom autograd Function; the only translation unit that needs the autograd headers.
#include "model/checkpointing.h"

#include "model/linear.h"

#include <ATen/Context.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/autograd.h>

namespace tb {
namespace {

struct Closure : torch::CustomClassHolder {
    std::function<at::Tensor(const at::Tensor&)> fn;
    at::Tensor rng_state;
    at::Device device = at::kCPU;
    bool training = false;  // the backward may run on another thread (CUDA)
};

at::Generator generator_for(const at::Device& d) { return at::globalContext().defaultGenerator(d); }

struct CheckpointFunction : torch::autograd::Function<CheckpointFunction> {
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& input,
                              c10::intrusive_ptr<Closure> closure) {
        closure->device = input.device();
        closure->training = training_mode();
        closure->rng_state = generator_for(input.device()).get_state();
        ctx->save_for_backward({input});
        ctx->saved_data["closure"] = c10::IValue::make_capsule(c10::static_intrusive_pointer_cast<torch::CustomClassHolder>(closure));
        return closure->fn(input);  // autograd is off inside forward
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        auto closure = c10::static_intrusive_pointer_cast<Closure>(ctx->saved_data["closure"].toCapsule());
        auto input = ctx->get_saved_variables()[0].detach().requires_grad_(true);
        auto gen = generator_for(closure->device);
        auto now = gen.get_state();
        gen.set_state(closure->rng_state);
        at::Tensor out;
        {
            at::AutoGradMode enable(true);
            TrainingModeGuard mode(closure->training);
            out = closure->fn(input);
        }
        gen.set_state(now);
        torch::autograd::backward({out}, {grads[0]});
        return {input.grad(), at::Tensor()};
    }
};

}  // namespace

at::Tensor checkpointed(const at::Tensor& input, std::function<at::Tensor(const at::Tensor&)> fn) {
    auto closure = c10::make_intrusive<Closure>();
    closure->fn = std::move(fn);
    return CheckpointFunction::apply(input, closure);
}

}  // namespace tb
