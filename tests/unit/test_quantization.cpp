// NF4 / int8 against bitsandbytes' definitions (MODELS.md §7): code book, nibble order,
// threshold choice, blockwise absmax, double quantization, and the error bounds they imply.
#include <gtest/gtest.h>

#include "model/decoder.h"
#include "model/quantization.h"
#include "test_support.h"

using namespace tb;

TEST(Quantization, Nf4PacksFirstElementInHighNibbleAndPicksCodesByThreshold) {
    // one block: absmax 1 so t = x; values chosen on both sides of thresholds
    std::vector<float> v = {-1.0f, 1.0f, 0.0f, 0.04f, 0.0397f, -0.05f, 0.87f, 0.86f};
    auto w = at::tensor(v).view({2, 4});
    auto q = quantize_nf4(w, /*double_quant=*/false);
    ASSERT_EQ(q.packed.numel(), 4);
    auto p = q.packed.to(at::kLong);
    // codes: -1→0, 1→15, 0→7, 0.04→8 (> 0.03979), 0.0397→7, -0.05→6, 0.87→15, 0.86→14
    EXPECT_EQ(p[0].item<int64_t>(), (0 << 4) | 15);
    EXPECT_EQ(p[1].item<int64_t>(), (7 << 4) | 8);
    EXPECT_EQ(p[2].item<int64_t>(), (7 << 4) | 6);
    EXPECT_EQ(p[3].item<int64_t>(), (15 << 4) | 14);
    EXPECT_FLOAT_EQ(q.absmax[0].item<float>(), 1.0f);
    auto back = q.dequantize();
    EXPECT_FLOAT_EQ(back[0][3].item<float>(), 0.07958029955625534f);
}

TEST(Quantization, Nf4RoundTripErrorIsBoundedByHalfTheLargestCodeGap) {
    auto g = at::detail::createCPUGenerator(5);
    auto w = at::randn({48, 130}, g) * 0.05;  // 6240 elements: 98 blocks, the last one partial
    for (bool dq : {false, true}) {
        auto q = quantize_nf4(w, dq);
        EXPECT_EQ(q.packed.numel(), 48 * 130 / 2);
        auto back = q.dequantize();
        auto blocks = at::constant_pad_nd(w.view({-1}), {0, 98 * 64 - 6240}).view({98, 64});
        auto absmax = blocks.abs().amax(1);
        // largest gap between neighbouring NF4 values is -0.6961928 - (-1) = 0.3038
        auto bound = (absmax * 0.1520f + 1e-7f).repeat_interleave(64).narrow(0, 0, 6240).view({48, 130});
        auto err = (back - w).abs();
        // double quantization adds the 8-bit error of absmax (relative < 1%)
        EXPECT_TRUE((err <= bound * (dq ? 1.02 : 1.0) + 2e-4 * dq).all().item<bool>()) << "double_quant " << dq;
        EXPECT_LT(q.bytes(), w.numel() * 4 / 7);
    }
    auto q = quantize_nf4(w, true);
    EXPECT_EQ(q.qabsmax.numel(), 98);
    EXPECT_EQ(q.absmax2.numel(), 1);
    EXPECT_NEAR(q.offset, at::constant_pad_nd(w.view({-1}), {0, 32}).view({98, 64}).abs().amax(1).mean().item<float>(), 1e-7);
    EXPECT_TRUE(at::allclose(q.block_absmax(), quantize_nf4(w, false).absmax, 0.01, 1e-5));
}

TEST(Quantization, DynamicMapMatchesBitsandbytesTable) {
    auto m = dynamic_map(at::kCPU);
    EXPECT_FLOAT_EQ(m[0].item<float>(), -0.992968738079071f);
    EXPECT_FLOAT_EQ(m[64].item<float>(), -0.09859374910593033f);
    EXPECT_FLOAT_EQ(m[127].item<float>(), 0.0f);
    EXPECT_FLOAT_EQ(m[255].item<float>(), 1.0f);
    EXPECT_TRUE((m.narrow(0, 1, 255) > m.narrow(0, 0, 255)).all().item<bool>());  // sorted
}

TEST(Quantization, Int8RowwiseAndQuantizedModelStaysClose) {
    auto g = at::detail::createCPUGenerator(6);
    auto w = at::randn({16, 32}, g);
    auto q = quantize_int8(w);
    auto err = (q.dequantize() - w).abs();
    EXPECT_TRUE((err <= (q.scb / 254.0f + 1e-6f).unsqueeze(1)).all().item<bool>());

    auto model = Model::random(test::tiny_config("chatglm"), 3);
    auto ids = at::arange(1, 12).unsqueeze(0);
    auto ref = model->forward(ids, nullptr);
    for (int bits : {8, 4}) {
        auto m = Model::random(test::tiny_config("chatglm"), 3);
        quantize_model(*m, bits, true);
        EXPECT_TRUE(m->quantized());
        auto out = m->forward(ids, nullptr);
        const double rel = ((out - ref).abs().max() / ref.abs().max()).item<double>();
        EXPECT_LT(rel, bits == 8 ? 0.02 : 0.15) << bits;
        EXPECT_GT(rel, 0.0);
    }
}

TEST(Quantization, QuantizingWhileLoadingEqualsQuantizingAfter) {
    test::TempDir dir;
    Model::random(test::tiny_config("llama"), 4)->save(dir.path);
    auto during = Model::load(dir.path, {.dtype = "float32", .device = "cpu", .quantization_bit = 4});
    auto after = Model::load(dir.path, {.dtype = "float32", .device = "cpu"});
    quantize_model(*after, 4, true);
    ASSERT_EQ(during->linears().size(), 2u * 7);
    for (size_t i = 0; i < during->linears().size(); ++i) {
        ASSERT_TRUE(during->linears()[i]->quant);
        EXPECT_FALSE(during->linears()[i]->weight.defined());  // the dense copy is gone
        EXPECT_TRUE(at::equal(during->linears()[i]->quant->packed, after->linears()[i]->quant->packed));
    }
    auto ids = at::arange(1, 9).unsqueeze(0);
    EXPECT_TRUE(at::equal(during->forward(ids, nullptr), after->forward(ids, nullptr)));
}

TEST(Quantization, GradientThroughAQuantizedLinearEqualsTheDenseOne) {
    auto model = Model::random(test::tiny_config("llama"), 4);
    quantize_model(*model, 4, true);
    Linear* l = model->linears()[0];
    auto g = at::detail::createCPUGenerator(9);
    auto x = at::randn({3, l->in_features()}, g).requires_grad_(true);
    auto x2 = x.detach().clone().requires_grad_(true);
    (*l)(x).pow(2).sum().backward();
    at::linear(x2, l->quant->dequantize()).pow(2).sum().backward();
    EXPECT_TRUE(at::allclose(x.grad(), x2.grad(), 1e-5, 1e-6));
}
