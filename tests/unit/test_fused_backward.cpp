// The written-out backward formulas the CUDA training kernels follow (RMSNorm, SwiGLU) against
// autograd through their ATen references: fp32 to rounding, bf16/fp16 within their roundings
// (SwiGLU's formula repeats ATen's own ops, so it is bit-equal), both RMSNorm rounding orders,
// with and without the weight's gradient; and ChatGLM's packed SwiGLU equal to the two halves.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "kernels/rms_norm.h"
#include "kernels/swiglu.h"

using namespace tb;

namespace {

double rel(const at::Tensor& got, const at::Tensor& want) {
    auto d = (got.to(at::kFloat) - want.to(at::kFloat)).abs().max().item<double>();
    return d / std::max(1e-12, want.to(at::kFloat).abs().max().item<double>());
}

void rms_norm_case(at::ScalarType dtype, bool round_once, double tol) {
    auto gen = at::detail::createCPUGenerator(11);
    auto x0 = (at::randn({3, 5, 64}, gen) * 3).to(dtype);
    auto w0 = (1.0 + 0.2 * at::randn({64}, gen)).to(dtype);
    auto gy = at::randn({3, 5, 64}, gen).to(dtype);
    auto x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true);
    auto y = kernels::rms_norm_reference(x, w, 1e-5, round_once);
    y.backward(gy.to(y.scalar_type()));
    auto [dx, dw] = kernels::rms_norm_backward_reference(x0, w0, gy, 1e-5, round_once, true);
    EXPECT_EQ(dx.scalar_type(), dtype);
    EXPECT_EQ(dw.scalar_type(), dtype);
    EXPECT_LE(rel(dx, x.grad()), tol) << "grad x, round_once " << round_once;
    EXPECT_LE(rel(dw, w.grad()), tol) << "grad weight, round_once " << round_once;
    auto [dx2, none] = kernels::rms_norm_backward_reference(x0, w0, gy, 1e-5, round_once, false);
    EXPECT_TRUE(at::equal(dx, dx2));
    EXPECT_FALSE(none.defined());
}

}  // namespace

TEST(FusedBackward, RmsNormFormulaMatchesAutogradFp32) {
    for (bool round_once : {false, true}) rms_norm_case(at::kFloat, round_once, 2e-6);
}

TEST(FusedBackward, RmsNormFormulaMatchesAutogradHalfTypes) {
    // the reference's autograd sums in its own order; one rounding of the result apart
    for (bool round_once : {false, true}) {
        rms_norm_case(at::kBFloat16, round_once, 1e-2);
        rms_norm_case(at::kHalf, round_once, 2e-3);
    }
}

TEST(FusedBackward, RmsNormFormulaCatchesAWrongGradient) {
    // the comparison can fail: a gradient for another eps, or for the other rounding order, differs
    auto gen = at::detail::createCPUGenerator(5);
    auto x0 = (at::randn({4, 64}, gen) * 0.01).to(at::kFloat);  // small rows: eps matters
    auto w0 = 1.0 + 0.2 * at::randn({64}, gen);
    auto gy = at::randn({4, 64}, gen);
    auto x = x0.clone().requires_grad_(true);
    kernels::rms_norm_reference(x, w0, 1e-5, true).backward(gy);
    auto [dx, unused] = kernels::rms_norm_backward_reference(x0, w0, gy, 1e-2, true, false);
    EXPECT_GT(rel(dx, x.grad()), 1e-3);
}

TEST(FusedBackward, SwigluFormulaIsAutogradBitForBit) {
    for (auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
        auto gen = at::detail::createCPUGenerator(7);
        auto g0 = (at::randn({6, 33}, gen) * 4).to(dtype), u0 = (at::randn({6, 33}, gen) * 2).to(dtype);
        auto gy = at::randn({6, 33}, gen).to(dtype);
        auto g = g0.clone().requires_grad_(true), u = u0.clone().requires_grad_(true);
        kernels::swiglu_reference(g, u).backward(gy);
        auto [dg, du] = kernels::swiglu_backward_reference(g0, u0, gy);
        EXPECT_TRUE(at::equal(dg, g.grad())) << c10::toString(dtype);
        EXPECT_TRUE(at::equal(du, u.grad())) << c10::toString(dtype);
    }
}

TEST(FusedBackward, PackedSwigluIsTheTwoHalves) {
    auto gen = at::detail::createCPUGenerator(9);
    auto gu0 = (at::randn({2, 3, 2 * 17}, gen) * 3).to(at::kBFloat16);
    auto gy = at::randn({2, 3, 17}, gen).to(at::kBFloat16);
    auto gu = gu0.clone().requires_grad_(true);
    auto out = kernels::swiglu_packed(gu);
    EXPECT_TRUE(at::equal(out, kernels::swiglu_reference(gu0.narrow(-1, 0, 17), gu0.narrow(-1, 17, 17))));
    out.backward(gy);
    auto [dg, du] = kernels::swiglu_backward_reference(gu0.narrow(-1, 0, 17), gu0.narrow(-1, 17, 17), gy);
    EXPECT_TRUE(at::equal(gu.grad(), at::cat({dg, du}, -1)));
}
