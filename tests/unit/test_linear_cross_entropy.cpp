// The chunked lm_head + cross-entropy against the reference the trainer used before (full logits,
// rounded to the model dtype, cross-entropy in fp32): loss, and the gradients of the hidden states
// and of the weight, with ignored rows, chunks that do not divide the rows, fp32 and bf16.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "kernels/linear_cross_entropy.h"

using namespace tb;

namespace {
constexpr int64_t kIgnore = -100;

struct Result {
    at::Tensor loss, grad_hidden, grad_weight;
};

template <typename F>
Result run(const at::Tensor& hidden0, const at::Tensor& weight0, bool weight_grad, F&& loss_fn) {
    auto hidden = hidden0.clone().requires_grad_(true);
    auto weight = weight0.clone().requires_grad_(weight_grad);
    auto loss = loss_fn(hidden, weight);
    (loss * 0.37).backward();  // a loss scale other than 1 reaches both gradients
    return {loss.detach(), hidden.grad(), weight_grad ? weight.grad() : at::Tensor()};
}

double rel(const at::Tensor& got, const at::Tensor& want) {
    auto d = (got.to(at::kFloat) - want.to(at::kFloat)).abs().max().item<double>();
    return d / std::max(1e-12, want.to(at::kFloat).abs().max().item<double>());
}

void compare(at::ScalarType dtype, int64_t chunk_rows, bool weight_grad, double tol) {
    const int64_t N = 37, H = 24, V = 50;
    auto g = at::detail::createCPUGenerator(3);
    auto hidden = at::randn({N, H}, g).to(dtype);
    auto weight = (at::randn({V, H}, g) * 0.5).to(dtype);
    auto labels = at::randint(0, V, {N}, g, at::TensorOptions().dtype(at::kLong));
    for (int64_t i : {0, 5, 6, 7, 8, 30}) labels[i] = kIgnore;  // row 5-8: a chunk nearly all ignored
    auto want = run(hidden, weight, weight_grad, [&](const at::Tensor& h, const at::Tensor& w) {
        return kernels::linear_cross_entropy_reference(h, w, labels, kIgnore);
    });
    auto got = run(hidden, weight, weight_grad, [&](const at::Tensor& h, const at::Tensor& w) {
        return kernels::linear_cross_entropy(h, w, labels, kIgnore, chunk_rows * V);
    });
    EXPECT_EQ(got.loss.scalar_type(), at::kFloat);
    EXPECT_LE(rel(got.loss, want.loss), tol) << got.loss.item<double>() << " vs " << want.loss.item<double>();
    EXPECT_LE(rel(got.grad_hidden, want.grad_hidden), tol);
    EXPECT_EQ(got.grad_hidden.scalar_type(), dtype);
    EXPECT_EQ(got.grad_hidden.narrow(0, 5, 4).abs().max().item<double>(), 0.0);  // ignored rows get nothing
    if (weight_grad) {
        ASSERT_TRUE(got.grad_weight.defined());
        EXPECT_LE(rel(got.grad_weight, want.grad_weight), tol);
    } else {
        EXPECT_FALSE(got.grad_weight.defined());
    }
}
}  // namespace

TEST(LinearCrossEntropy, Fp32EqualsTheFullLogitsLoss) {
    for (int64_t rows : {1, 4, 8, 37, 100}) compare(at::kFloat, rows, /*weight_grad=*/true, 1e-5);
    compare(at::kFloat, 8, /*weight_grad=*/false, 1e-5);
}

TEST(LinearCrossEntropy, Bf16WithinRounding) {
    compare(at::kBFloat16, 8, /*weight_grad=*/true, 2e-2);
    compare(at::kBFloat16, 37, /*weight_grad=*/false, 2e-2);
}

TEST(LinearCrossEntropy, WithoutGradientsItIsJustTheLoss) {
    c10::InferenceMode no_grad;
    auto g = at::detail::createCPUGenerator(9);
    auto hidden = at::randn({10, 8}, g), weight = at::randn({20, 8}, g);
    auto labels = at::randint(0, 20, {10}, g, at::TensorOptions().dtype(at::kLong));
    auto want = kernels::linear_cross_entropy_reference(hidden, weight, labels, kIgnore);
    auto got = kernels::linear_cross_entropy(hidden, weight, labels, kIgnore, 3 * 20);
    EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-5 * want.item<double>());
    // every row ignored: zero loss, as the reference's sum
    auto none = at::full({10}, kIgnore, at::TensorOptions().dtype(at::kLong));
    EXPECT_EQ(kernels::linear_cross_entropy(hidden, weight, none, kIgnore).item<double>(), 0.0);
}
