// A custom autograd Function (autograd headers stay in this TU and checkpointing.cpp).
#include "model/quantized_matmul.h"

#include <torch/csrc/autograd/custom_function.h>

#include "kernels/quantized_gemv.h"
#include "model/quantization.h"

namespace tb {
namespace {

struct Holder : torch::CustomClassHolder {
    const QuantizedWeight* weight = nullptr;  // owned by the Linear, which outlives the step
};

struct QuantizedLinearFunction : torch::autograd::Function<QuantizedLinearFunction> {
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, c10::intrusive_ptr<Holder> holder) {
        ctx->saved_data["w"] = c10::IValue::make_capsule(c10::static_intrusive_pointer_cast<torch::CustomClassHolder>(holder));
        return at::linear(x, holder->weight->dequantize());
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
        auto holder = c10::static_intrusive_pointer_cast<Holder>(ctx->saved_data["w"].toCapsule());
        return {at::matmul(grads[0], holder->weight->dequantize()), at::Tensor()};  // d(xWᵀ)/dx = grad · W
    }
};

}  // namespace

at::Tensor quantized_linear(const at::Tensor& x, const QuantizedWeight& weight, const at::Tensor& bias) {
    if (!x.requires_grad())  // inference: a decode step's few rows read the quantized weight once, bias in the epilogue
        return kernels::quantized_gemv(x, weight, bias);
    auto holder = c10::make_intrusive<Holder>();
    holder->weight = &weight;
    auto y = QuantizedLinearFunction::apply(x, holder);
    return bias.defined() ? y + bias : y;
}

}  // namespace tb
