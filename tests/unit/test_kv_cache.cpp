// Invariant: decoding token by token with the KV cache gives the same logits as one
// full-sequence forward, for tiny random ChatGLM (both RoPE precisions), Qwen2 and LLaMA
// (plain and llama3-scaled RoPE) built by the project's own code. Also: a left-padded batch
// row equals the same sequence run alone.
#include <gtest/gtest.h>

#include "model/decoder.h"
#include "test_support.h"

using namespace tb;

namespace {

void expect_incremental_equals_full(const ModelConfig& c) {
    auto m = Model::random(c, 11);
    auto ids = at::randint(0, c.vocab_size, {1, 12}, at::detail::createCPUGenerator(5), at::kLong);
    auto full = m->forward(ids, nullptr);  // [1, 12, V]
    auto cache = m->new_cache(4);           // small capacity: exercises growth
    std::vector<at::Tensor> steps;
    // prefill 5, then one token at a time
    steps.push_back(m->forward(ids.narrow(1, 0, 5), &cache));
    for (int t = 5; t < 12; ++t) steps.push_back(m->forward(ids.narrow(1, t, 1), &cache));
    auto inc = at::cat(steps, 1);
    EXPECT_EQ(cache.length(), 12);
    EXPECT_TRUE(at::allclose(full, inc, 1e-5, 1e-5)) << c.model_type << " max diff "
                                                     << (full - inc).abs().max().item<float>();
    // The logits depend on the weights and on position: a sanity check that the test can fail.
    EXPECT_FALSE(at::allclose(full.select(1, 3), full.select(1, 4)));
    // last_only gives the last row.
    cache.clear();
    auto last = m->forward(ids, &cache, {.last_only = true});
    EXPECT_TRUE(at::allclose(last.select(1, 0), full.select(1, 11), 1e-5, 1e-5));
}

}  // namespace

TEST(KVCache, ChatGLMFp32Rope) { expect_incremental_equals_full(test::tiny_config("chatglm")); }

TEST(KVCache, ChatGLM2RopeInModelDtype) {
    auto c = test::tiny_config("chatglm");
    c.glm_rope_in_model_dtype = true;
    expect_incremental_equals_full(c);
}

TEST(KVCache, Qwen2) { expect_incremental_equals_full(test::tiny_config("qwen2")); }
TEST(KVCache, Qwen3) { expect_incremental_equals_full(test::tiny_config("qwen3")); }
TEST(KVCache, Glm4) { expect_incremental_equals_full(test::tiny_config("glm4")); }
TEST(KVCache, Llama) { expect_incremental_equals_full(test::tiny_config("llama")); }

TEST(KVCache, LlamaWithLlama3RopeScaling) {
    auto c = test::tiny_config("llama");
    c.rope_theta = 500000;
    c.rope_scaling = {"llama3", 8.0, 1.0, 4.0, 64};
    expect_incremental_equals_full(c);
}

TEST(KVCache, RewindReusesAPrefix) {
    auto c = test::tiny_config("llama");
    auto m = Model::random(c, 2);
    auto a = at::tensor(std::vector<int64_t>{5, 6, 7, 8, 9}).unsqueeze(0);
    auto b = at::tensor(std::vector<int64_t>{5, 6, 7, 1, 2}).unsqueeze(0);
    auto cache = m->new_cache();
    m->forward(a, &cache);
    cache.rewind(3);
    auto tail = m->forward(b.narrow(1, 3, 2), &cache);
    auto full = m->forward(b, nullptr).narrow(1, 3, 2);
    EXPECT_TRUE(at::allclose(tail, full, 1e-5, 1e-5));
}

TEST(KVCache, LeftPaddedBatchRowEqualsTheSequenceAlone) {
    for (const std::string type : {"chatglm", "qwen2", "qwen3", "glm", "glm4", "llama"}) {
        auto c = test::tiny_config(type);
        auto m = Model::random(c, 9);
        auto seq = at::tensor(std::vector<int64_t>{3, 14, 15, 9}).unsqueeze(0);
        auto alone = m->forward(seq, nullptr).select(1, 3);
        // batch of two: row 0 = [pad, pad, seq...] left-padded to 6, row 1 = 6 real tokens
        auto batch = at::tensor(std::vector<int64_t>{0, 0, 3, 14, 15, 9, 1, 2, 3, 4, 5, 6}).reshape({2, 6});
        auto mask = at::tensor(std::vector<int64_t>{0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}).reshape({2, 6});
        auto pos = at::tensor(std::vector<int64_t>{0, 0, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5}).reshape({2, 6});
        auto out = m->forward(batch, nullptr, {.position_ids = pos, .key_mask = mask});
        EXPECT_TRUE(at::allclose(out.select(0, 0).select(0, 5), alone.select(0, 0), 1e-5, 1e-5)) << type;
    }
}
