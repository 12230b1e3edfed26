// AdamW's step over all parameters at once (torch's foreach path) against its one-parameter-at-a-time
// reference: bit-equal on the CPU for fp32 and bf16 parameters, with weight decay, over several
// steps, a parameter without a gradient left alone; and clip_grad_norm as torch computes it.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "train/adamw.h"

using namespace tb;

namespace {

std::vector<std::pair<std::string, at::Tensor>> params_like(uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    std::vector<std::pair<std::string, at::Tensor>> out;
    out.emplace_back("a", at::randn({7, 5}, gen));
    out.emplace_back("b", at::randn({33}, gen).to(at::kBFloat16));
    out.emplace_back("c", at::randn({4, 4, 3}, gen));
    out.emplace_back("no_grad", at::randn({6}, gen));
    return out;
}

void set_grads(std::vector<std::pair<std::string, at::Tensor>>& ps, int step) {
    auto gen = at::detail::createCPUGenerator(100 + step);
    for (auto& [name, p] : ps)
        if (name != "no_grad") p.mutable_grad() = at::randn(p.sizes(), gen).to(p.scalar_type());
}

}  // namespace

TEST(AdamW, ForeachStepEqualsTheSingleTensorReferenceBitForBit) {
    auto fast = params_like(1), ref = params_like(1);
    AdamWOptions o{0.9, 0.95, 1e-8, 0.1};
    AdamW a(fast, o), b(ref, o);
    for (int s = 0; s < 5; ++s) {
        set_grads(fast, s);
        set_grads(ref, s);
        a.step(1e-2 * (s + 1));
        b.step_reference(1e-2 * (s + 1));
    }
    for (size_t i = 0; i < fast.size(); ++i) EXPECT_TRUE(at::equal(fast[i].second, ref[i].second)) << fast[i].first;
    const auto sa = a.state(), sb = b.state();
    ASSERT_EQ(sa.size(), sb.size());
    for (size_t i = 0; i < sa.size(); ++i) EXPECT_TRUE(at::equal(sa[i].second, sb[i].second)) << sa[i].first;
    EXPECT_TRUE(at::equal(fast[3].second, params_like(1)[3].second));  // no gradient: untouched
    EXPECT_FALSE(at::equal(fast[0].second, params_like(1)[0].second));
}

TEST(AdamW, ClipGradNormScalesLikeTorch) {
    auto ps = params_like(2);
    set_grads(ps, 0);
    std::vector<at::Tensor> before;
    double sq = 0;
    for (auto& [n, p] : ps) {
        if (!p.grad().defined()) continue;
        before.push_back(p.grad().clone());
        sq += p.grad().to(at::kFloat).pow(2).sum().item<double>();
    }
    AdamW opt(ps, {});
    const double norm = opt.clip_grad_norm(1.0).item<double>();
    EXPECT_NEAR(norm, std::sqrt(sq), 1e-4 * std::sqrt(sq));
    const double coef = 1.0 / (norm + 1e-6);
    size_t k = 0;
    for (auto& [n, p] : ps) {
        if (!p.grad().defined()) continue;
        const double tol = p.scalar_type() == at::kBFloat16 ? 1e-2 : 1e-6;
        EXPECT_TRUE(at::allclose(p.grad().to(at::kFloat), before[k++].to(at::kFloat) * coef, tol, tol)) << n;
    }
    // below max_norm nothing changes
    const auto kept = ps[0].second.grad().clone();
    EXPECT_NEAR(opt.clip_grad_norm(1e6).item<double>(), 1.0, 1e-4);
    EXPECT_TRUE(at::equal(ps[0].second.grad(), kept));
}
