// Packing as LLaMA-Factory does it: positions restart for every packed example, and with neat
// packing each example attends only within itself, so a packed row's loss is the examples' losses
// taken one at a time (every architecture, fp32); without neat packing the examples see each other.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "data/sft_encoding.h"
#include "model/decoder.h"
#include "test_support.h"
#include "train/batching.h"
#include "train/training_args.h"

using namespace tb;

namespace {

data::EncodedExample example(std::vector<int64_t> ids) {
    data::EncodedExample e;
    e.input_ids = ids;
    e.labels = ids;
    e.labels[0] = data::kIgnoreIndex;  // a prompt token: nothing predicts an example's first token
    return e;
}

}  // namespace

TEST(Packing, CollateRestartsPositionsAndNumbersSegments) {
    std::vector<data::EncodedExample> ex = {example({5, 6, 7}), example({8, 9}), example({10, 11, 12, 13})};
    auto packed = pack_examples(ex, 6);
    ASSERT_EQ(packed.size(), 2u);  // 4 + 2, 3
    EXPECT_EQ(packed[0].segments, (std::vector<int64_t>{4, 2}));
    auto b = collate(packed, {0, 1}, 0, at::kCPU, 8, true);
    ASSERT_TRUE(b.position_ids.defined() && b.segments.defined());
    EXPECT_TRUE(at::equal(b.position_ids[0].narrow(0, 0, 6), at::tensor(std::vector<int64_t>{0, 1, 2, 3, 0, 1})));
    EXPECT_TRUE(at::equal(b.segments.ids[0].narrow(0, 0, 7), at::tensor(std::vector<int64_t>{1, 1, 1, 1, 2, 2, 0})));
    EXPECT_TRUE(at::equal(b.position_ids[1].narrow(0, 0, 3), at::tensor(std::vector<int64_t>{0, 1, 2})));
    // flash attention's variable-length form: examples 4, 2, the padding 2; example 3, padding 5
    EXPECT_TRUE(at::equal(b.segments.cu_seqlens, at::tensor(std::vector<int32_t>{0, 4, 6, 8, 11, 16})));
    EXPECT_EQ(b.segments.max_len, 5);
    auto plain = collate(packed, {0, 1}, 0, at::kCPU, 8, false);
    EXPECT_TRUE(plain.position_ids.defined());
    EXPECT_FALSE(plain.segments.defined());
    auto unpacked = collate(ex, {0, 1}, 0, at::kCPU);
    EXPECT_FALSE(unpacked.position_ids.defined());
}

TEST(Packing, RowsFollowLlamaFactorysGreedyKnapsack) {
    // lengths 3, 2, 4, 2 into 6: the longest that fits first, the later of equal lengths first
    std::vector<data::EncodedExample> ex = {example({1, 2, 3}), example({4, 5}), example({6, 7, 8, 9}), example({10, 11}),
                                            example({12, 13, 14, 15, 16, 17, 18})};
    int64_t dropped = 0;
    auto packed = pack_examples(ex, 6, &dropped);
    EXPECT_EQ(dropped, 1);  // 7 tokens > cutoff_len, dropped as LLaMA-Factory drops it
    ASSERT_EQ(packed.size(), 2u);
    EXPECT_EQ(packed[0].input_ids, (std::vector<int64_t>{6, 7, 8, 9, 10, 11}));
    EXPECT_EQ(packed[0].segments, (std::vector<int64_t>{4, 2}));
    EXPECT_EQ(packed[1].input_ids, (std::vector<int64_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(packed[1].segments, (std::vector<int64_t>{3, 2}));
}

TEST(Packing, NeatPackedRowLossIsTheExamplesLossesAlone) {
    for (const char* type : {"llama", "qwen2", "chatglm"}) {
        auto model = Model::random(test::tiny_config(type), 7, at::kFloat, at::kCPU);
        std::vector<data::EncodedExample> ex = {example({3, 17, 25, 40, 9}), example({60, 12, 33, 7, 21, 50, 8})};
        auto packed = pack_examples(ex, 16);
        ASSERT_EQ(packed.size(), 1u);
        at::NoGradGuard no_grad;
        double alone = 0;
        for (const auto& e : ex) {
            auto b = collate({e}, {0}, 0, at::kCPU, 1);
            alone += model->loss_sum(b.input_ids, b.labels, data::kIgnoreIndex).item<double>();
        }
        auto neat = collate(packed, {0}, 0, at::kCPU, 1, true);
        ForwardOptions fo;
        fo.position_ids = neat.position_ids;
        fo.segments = neat.segments;
        const double packed_loss = model->loss_sum(neat.input_ids, neat.labels, data::kIgnoreIndex, fo).item<double>();
        EXPECT_NEAR(packed_loss, alone, 1e-4 * std::abs(alone)) << type;
        // plain packing: the second example attends to the first, so its loss differs
        auto plain = collate(packed, {0}, 0, at::kCPU, 1, false);
        ForwardOptions fp;
        fp.position_ids = plain.position_ids;
        const double cross = model->loss_sum(plain.input_ids, plain.labels, data::kIgnoreIndex, fp).item<double>();
        EXPECT_GT(std::abs(cross - alone), 1e-4 * std::abs(alone)) << type;
    }
}

TEST(Packing, NeatPackingTurnsPackingOnLikeLlamaFactory) {
    auto a = TrainingArgs::from_map({{"model_name_or_path", "m"}, {"dataset", "d"}, {"output_dir", "o"}, {"neat_packing", "true"}});
    EXPECT_TRUE(a.neat_packing);
}
