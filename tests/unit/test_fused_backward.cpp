// The written-out backward formulas the CUDA training kernels follow (RMSNorm, SwiGLU) against
// autograd through their ATen references: fp32 to rounding, bf16/fp16 within their roundings
// (SwiGLU's formula repeats ATen's own ops, so it is bit-equal), both RMSNorm rounding orders,
// with and without the weight's gradient; ChatGLM's packed SwiGLU equal to the two halves; and
// LoRA's autograd node (model/lora_function) against PEFT's path; RoPE's backward (the rotation by
// the opposite angle) against autograd through Rope::apply, bit for bit.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <array>
#include <memory>

#include "kernels/rms_norm.h"
#include "kernels/rope_train.h"
#include "kernels/swiglu.h"
#include "model/linear.h"
#include "model/lora_function.h"
#include "model/model_config.h"
#include "model/rope.h"
#include "test_support.h"

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

namespace {

// PEFT's LoRA forward as the reference path computes it (linear.cpp without the autograd node):
// x cast to the adapter's fp32, rank-r products in fp32, the sum in fp32 cast back once.
at::Tensor peft_lora(const at::Tensor& x, const at::Tensor& W, const at::Tensor& b, const at::Tensor& A,
                     const at::Tensor& B, double s) {
    auto y = at::linear(x, W, b);
    return (y + at::linear(at::linear(x.to(A.scalar_type()), A), B) * s).to(y.scalar_type());
}

void lora_case(at::ScalarType dtype, double tol) {
    auto gen = at::detail::createCPUGenerator(13);
    const int64_t in = 48, out = 40, r = 4;
    auto x0 = at::randn({2, 7, in}, gen).to(dtype);
    auto W = (at::randn({out, in}, gen) * 0.2).to(dtype), b = (at::randn({out}, gen) * 0.1).to(dtype);
    auto A0 = at::randn({r, in}, gen) * 0.2, B0 = at::randn({out, r}, gen) * 0.2;  // fp32, as trained
    auto gy = at::randn({2, 7, out}, gen).to(dtype);
    Linear l;
    l.weight = W;
    l.bias = b;
    l.lora = std::make_shared<LoraWeights>();
    l.lora->scaling = 2.0;
    auto run = [&](bool fused) {
        auto x = x0.clone().requires_grad_(true);
        l.lora->A = A0.clone().requires_grad_(true);
        l.lora->B = B0.clone().requires_grad_(true);
        auto y = fused ? add_lora(at::linear(x, W, b), x, *l.lora) : peft_lora(x, W, b, l.lora->A, l.lora->B, 2.0);
        y.backward(gy);
        return std::array<at::Tensor, 4>{y.detach(), x.grad(), l.lora->A.grad(), l.lora->B.grad()};
    };
    auto got = run(true), want = run(false);
    for (int i = 0; i < 4; ++i) EXPECT_LE(rel(got[i], want[i]), tol) << "output/x/A/B " << i << " " << c10::toString(dtype);
    EXPECT_EQ(got[0].scalar_type(), dtype);
    EXPECT_EQ(got[2].scalar_type(), at::kFloat);  // the adapter's own dtype
    // the gradients reach both factors and are not the base layer's
    EXPECT_GT(got[2].abs().max().item<double>(), 0.0);
    EXPECT_GT(got[3].abs().max().item<double>(), 0.0);
    // Linear takes the node when it trains the adapter (bf16: its roundings differ from PEFT's path)
    auto x = x0.clone().requires_grad_(true);
    l.lora->A = A0.clone().requires_grad_(true);
    l.lora->B = B0.clone().requires_grad_(true);
    EXPECT_TRUE(at::equal(l(x), add_lora(at::linear(x, W, b), x, *l.lora)));
    if (dtype != at::kFloat) {
        EXPECT_FALSE(at::equal(l(x), peft_lora(x, W, b, l.lora->A, l.lora->B, 2.0)));
    }
}

}  // namespace

TEST(FusedBackward, LoraNodeEqualsThePeftPath) {
    lora_case(at::kFloat, 1e-5);
    // products in bf16 (LLaMA-Factory's autocast) against PEFT's fp32 products: bf16 roundings apart
    lora_case(at::kBFloat16, 2e-2);
}

TEST(FusedBackward, RopeFormulaIsAutogradBitForBit) {
    // ChatGLM: interleaved pairs over the first half of each head; LLaMA: rotate-half
    for (Arch arch : {Arch::ChatGLM, Arch::Llama}) {
        for (auto dtype : {at::kFloat, at::kBFloat16}) {
            Rope rope(test::tiny_config(arch == Arch::ChatGLM ? "chatglm" : "llama"), dtype, at::kCPU);
            auto gen = at::detail::createCPUGenerator(17);
            auto positions = at::randint(0, 500, {2, 5}, gen, at::TensorOptions().dtype(at::kLong));
            auto [cos, sin] = rope.tables(positions);
            auto x0 = at::randn({2, 5, 3, 8}, gen).to(dtype), gy = at::randn({2, 5, 3, 8}, gen).to(dtype);
            auto x = x0.clone().requires_grad_(true);
            rope.apply(x, cos, sin).backward(gy);
            auto want = x.grad();
            EXPECT_TRUE(at::equal(kernels::rope_backward_reference(rope, gy, cos, sin), want))
                << (arch == Arch::ChatGLM ? "chatglm " : "llama ") << c10::toString(dtype);
            // and it is not the identity or the forward rotation
            EXPECT_FALSE(at::equal(want, gy));
            EXPECT_FALSE(at::equal(want, rope.apply(gy, cos, sin)));
        }
    }
}

TEST(FusedBackward, RopeQkvSplitsAndRotatesLikeTheReference) {
    Rope rope(test::tiny_config("chatglm"), at::kFloat, at::kCPU);
    auto gen = at::detail::createCPUGenerator(19);
    auto positions = at::arange(6, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
    auto [cos, sin] = rope.tables(positions);
    auto qkv = at::randn({1, 6, (4 + 2 * 2) * 8}, gen);  // tiny_config: 4 heads, 2 kv heads of 8
    auto got = kernels::rope_qkv(rope, qkv, cos, sin, 4, 2, 8);
    EXPECT_TRUE(at::equal(got[0], rope.apply(qkv.narrow(-1, 0, 32).reshape({1, 6, 4, 8}), cos, sin)));
    EXPECT_TRUE(at::equal(got[1], rope.apply(qkv.narrow(-1, 32, 16).reshape({1, 6, 2, 8}), cos, sin)));
    EXPECT_TRUE(at::equal(got[2], qkv.narrow(-1, 48, 16).reshape({1, 6, 2, 8})));
}
