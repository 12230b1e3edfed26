// The decode context (infer/decode_context.h) against independent references, on the CPU:
// - greedy decoding of rows that join and leave a shared static cache at different lengths equals
//   greedy decoding by full recomputation (Model::forward over the whole sequence, no cache), for
//   every architecture;
// - the static cache allocates once, never while decoding;
// - the tensor sampler picks the scalar reference Sampler's token for the same uniform, keeps to
//   the top-k / top-p support, follows the distribution, and a seed reproduces a sampled reply;
// - batched replies (continuous batching) equal one-at-a-time replies on the trained stories260K.
#include <gtest/gtest.h>

#include <c10/core/InferenceMode.h>

#include <limits>
#include <map>
#include <random>

#include "infer/chat_session.h"
#include "infer/decode_context.h"
#include "infer/sampler.h"
#include "infer/token_sampler.h"
#include "model/static_kv_cache.h"
#include "test_support.h"

using namespace tb;

namespace {

// Greedy continuation by recomputing the whole sequence each step: the reference.
std::vector<int64_t> greedy_by_recompute(const Model& m, std::vector<int64_t> ids, int64_t n) {
    c10::InferenceMode guard;
    std::vector<int64_t> out;
    for (int64_t i = 0; i < n; ++i) {
        auto logits = m.forward(at::tensor(ids).unsqueeze(0), nullptr, {.last_only = true});
        const int64_t next = logits.reshape({-1}).argmax().item<int64_t>();
        out.push_back(next);
        ids.push_back(next);
    }
    return out;
}

// Rows of lengths 1 … 30 with their own token budgets share 3 slots: a row that ends hands its
// slot to the next one at once, so rows join and leave while others are mid-way.
void expect_batched_equals_recompute(const ModelConfig& c) {
    std::shared_ptr<const Model> m = Model::random(c, 7);
    std::mt19937_64 rng(3);
    const std::vector<int64_t> lengths = {5, 1, 30, 12, 2, 19, 7};
    const std::vector<int64_t> budgets = {9, 3, 14, 1, 11, 6, 8};
    std::vector<std::vector<int64_t>> prompts;
    for (int64_t len : lengths) {
        std::vector<int64_t> p;
        for (int64_t i = 0; i < len; ++i) p.push_back(static_cast<int64_t>(rng() % (c.prefix_lm() ? c.vocab_size - 4 : c.vocab_size)));
        if (c.prefix_lm()) {  // ChatGLM-6B's prompts end with [gMASK] <sop>
            p.push_back(*c.gmask_token_id);
            p.push_back(*c.bos_token_id);
        }
        prompts.push_back(p);
    }
    GenerationConfig g;
    g.do_sample = false;
    DecodeContext ctx(m, g, {}, {.slots = 3, .capacity = 48});
    const int64_t before = StaticKVCache::allocations();
    std::map<int64_t, size_t> row_of;  // slot → row
    std::vector<std::vector<int64_t>> got(prompts.size());
    size_t next = 0;
    auto admit = [&](int64_t slot) {
        while (next < prompts.size()) {
            const size_t r = next++;
            got[r].push_back(ctx.start(slot, prompts[r], 0, 1));
            if (static_cast<int64_t>(got[r].size()) < budgets[r]) {
                row_of[slot] = r;
                return;
            }
            ctx.finish(slot);
        }
        row_of.erase(slot);
    };
    for (int64_t s = 0; s < 3; ++s) admit(s);
    while (!row_of.empty()) {
        const auto& step = ctx.step();
        for (int64_t s = 0; s < 3; ++s) {
            if (!row_of.count(s)) {
                EXPECT_EQ(step.ids[s], -1);
                continue;
            }
            const size_t r = row_of[s];
            got[r].push_back(step.ids[s]);
            if (static_cast<int64_t>(got[r].size()) == budgets[r]) {
                ctx.finish(s);
                admit(s);
            }
        }
    }
    EXPECT_EQ(StaticKVCache::allocations(), before) << "the static cache reallocated while decoding";
    for (size_t r = 0; r < prompts.size(); ++r)
        EXPECT_EQ(got[r], greedy_by_recompute(*m, prompts[r], budgets[r])) << c.model_type << " row " << r;
}

}  // namespace

// prefix attention over the prompt, 2-D positions from each slot's anchors, rotated before the cache write
TEST(DecodeContext, BatchedGreedyEqualsRecomputeChatGLM6B) { expect_batched_equals_recompute(test::tiny_config("chatglm6b")); }
TEST(DecodeContext, BatchedGreedyEqualsRecomputeChatGLM) { expect_batched_equals_recompute(test::tiny_config("chatglm")); }
TEST(DecodeContext, BatchedGreedyEqualsRecomputeChatGLM2Rope) {
    auto c = test::tiny_config("chatglm");
    c.glm_rope_in_model_dtype = true;
    expect_batched_equals_recompute(c);
}
TEST(DecodeContext, BatchedGreedyEqualsRecomputeLlama) { expect_batched_equals_recompute(test::tiny_config("llama")); }
TEST(DecodeContext, BatchedGreedyEqualsRecomputeQwen2) { expect_batched_equals_recompute(test::tiny_config("qwen2")); }
TEST(DecodeContext, BatchedGreedyEqualsRecomputeQwen3) { expect_batched_equals_recompute(test::tiny_config("qwen3")); }
TEST(DecodeContext, BatchedGreedyEqualsRecomputeGlm4) { expect_batched_equals_recompute(test::tiny_config("glm4")); }
TEST(DecodeContext, BatchedGreedyEqualsRecomputeMultiHead) {
    auto c = test::tiny_config("llama");
    c.num_key_value_heads = c.num_attention_heads;  // no grouping
    expect_batched_equals_recompute(c);
}

TEST(DecodeContext, PromptLongerThanTheCacheIsAClearError) {
    std::shared_ptr<const Model> m = Model::random(test::tiny_config("llama"), 1);
    DecodeContext ctx(m, {}, {}, {.slots = 1, .capacity = 8});
    auto msg = test::error_of<ConfigError>([&] { ctx.start(0, std::vector<int64_t>(8, 3), 0, 1); });
    EXPECT_NE(msg.find("8 positions"), std::string::npos) << msg;
}

// NaN logits (an fp16 overflow) are an error with a hint, never a silently wrong token: at the
// first token and in a decode step.
TEST(DecodeContext, NonFiniteLogitsAreAnError) {
    auto m = Model::random(test::tiny_config("llama"), 1);
    GenerationConfig greedy;
    greedy.do_sample = false;
    {
        auto bad = Model::random(test::tiny_config("llama"), 1);
        bad->lm_head().weight.fill_(std::numeric_limits<float>::quiet_NaN());
        DecodeContext ctx(bad, greedy, {}, {.slots = 1, .capacity = 16});
        auto msg = test::error_of([&] { ctx.start(0, {1, 2, 3}, 0, 1); });
        EXPECT_NE(msg.find("NaN/Inf"), std::string::npos) << msg;
    }
    DecodeContext ctx(m, greedy, {}, {.slots = 2, .capacity = 16});
    ctx.start(0, {1, 2, 3}, 0, 1);
    ctx.step();  // fine
    m->layers()[0].down.weight.fill_(std::numeric_limits<float>::infinity());  // now every step overflows
    auto msg = test::error_of([&] { ctx.step(); });
    EXPECT_NE(msg.find("NaN/Inf"), std::string::npos) << msg;
}

// The tensor sampler is the scalar Sampler for the same uniform number, in every mode.
TEST(TokenSampler, SameTokenAsTheScalarReference) {
    std::mt19937_64 rng(11);
    std::normal_distribution<float> normal(0, 3);
    struct Mode { bool sample; double t, p; int64_t k; double rep; };
    const std::vector<Mode> modes = {{false, 1, 1, 0, 1},   {false, 1, 1, 0, 1.3}, {true, 1, 1, 0, 1},
                                     {true, 0.7, 1, 20, 1}, {true, 1.2, 0.8, 0, 1}, {true, 0.95, 0.7, 50, 1.1},
                                     {true, 1, 0.3, 5, 1}};
    const int64_t B = 6, V = 300;
    int64_t compared = 0;
    for (const auto& mode : modes) {
        GenerationConfig g;
        g.do_sample = mode.sample;
        g.temperature = mode.t;
        g.top_p = mode.p;
        g.top_k = mode.k;
        g.repetition_penalty = mode.rep;
        for (int trial = 0; trial < 40; ++trial) {
            std::vector<float> data(B * V), u(B);
            for (auto& x : data) x = normal(rng);
            for (auto& x : u) x = uniform01(rng);
            auto logits = at::tensor(data).reshape({B, V});
            auto seen = at::zeros({B, V}, at::kBool);
            std::vector<std::vector<int64_t>> history(B);
            for (int64_t b = 0; b < B; ++b) {
                for (int j = 0; j < 10; ++j) {
                    const int64_t id = static_cast<int64_t>(rng() % V);
                    history[b].push_back(id);
                    seen[b][id] = true;
                }
            }
            auto ids = sample_tokens(logits, seen, at::tensor(u), g);
            Sampler reference(g);
            for (int64_t b = 0; b < B; ++b) {
                std::vector<float> row(data.begin() + b * V, data.begin() + (b + 1) * V);
                EXPECT_EQ(ids[b].item<int64_t>(), reference.next(row, history[b], u[b]))
                    << "mode " << (&mode - modes.data()) << " trial " << trial << " row " << b;
                ++compared;
            }
        }
    }
    EXPECT_EQ(compared, static_cast<int64_t>(modes.size()) * 40 * B);
}

// Draws follow softmax(l / T) restricted to the top-k, then to the smallest top-p prefix.
TEST(TokenSampler, TopKSupportTopPMassAndFrequencies) {
    const std::vector<float> l = {2.0f, 1.5f, 1.0f, 0.5f, 0.0f, -0.5f, -1.0f, -3.0f};
    const int64_t V = static_cast<int64_t>(l.size()), N = 20000;
    auto logits = at::tensor(l).unsqueeze(0).expand({N, V}).contiguous();
    std::mt19937_64 rng(5);
    std::vector<float> u(N);
    for (auto& x : u) x = uniform01(rng);
    auto uniforms = at::tensor(u);
    auto freq = [&](const GenerationConfig& g) {
        auto ids = sample_tokens(logits, {}, uniforms, g);
        std::vector<double> f(V, 0);
        for (int64_t i = 0; i < N; ++i) f[ids[i].item<int64_t>()] += 1.0 / N;
        return f;
    };
    GenerationConfig g;
    g.temperature = 1.0;
    g.top_p = 1.0;
    g.top_k = 3;
    auto f = freq(g);
    std::vector<double> p(V, 0);
    double z = 0;
    for (int i = 0; i < 3; ++i) z += std::exp(l[i]);
    for (int i = 0; i < 3; ++i) p[i] = std::exp(l[i]) / z;
    for (int i = 0; i < V; ++i) EXPECT_NEAR(f[i], p[i], 0.015) << "top_k 3, id " << i;
    // top_p 0.6 over the full softmax: p = .405 .245 .149 …; the first two reach .650 ≥ .6
    g.top_k = 0;
    g.top_p = 0.6;
    f = freq(g);
    z = 0;
    for (float x : l) z += std::exp(x);
    const double kept = (std::exp(l[0]) + std::exp(l[1])) / z;
    ASSERT_GE(kept, 0.6);
    ASSERT_LT(std::exp(l[0]) / z, 0.6);
    for (int i = 0; i < V; ++i) {
        const double expect = i < 2 ? std::exp(l[i]) / z / kept : 0.0;
        EXPECT_NEAR(f[i], expect, 0.015) << "top_p 0.6, id " << i;
    }
    // temperature 0.5 sharpens: the top id's share grows
    g.top_p = 1.0;
    g.temperature = 0.5;
    f = freq(g);
    z = 0;
    for (float x : l) z += std::exp(x / 0.5);
    EXPECT_NEAR(f[0], std::exp(l[0] / 0.5) / z, 0.015);
}

namespace {
ChatSession stories(bool sample) {
    InferenceArgs args;
    args.model_name_or_path = (test::models_dir() / "stories260K-hf").string();
    args.template_name = "empty";
    args.device = "cpu";
    args.generation.do_sample = sample;
    args.generation.max_new_tokens = 40;
    return ChatSession(args);
}
}  // namespace

TEST(BatchedGeneration, Stories260KBatchedRepliesEqualOneAtATime) {
    auto session = stories(false);
    const std::vector<std::string> texts = {"Tom and his dog", "Once", "The little bird wanted to fly over the big hill",
                                            "Lily", "One day, a boy named Sam found a shiny red ball in the park",
                                            "The sun"};
    std::vector<std::vector<int64_t>> prompts;
    std::vector<std::string> single;
    for (const auto& t : texts) {
        prompts.push_back(session.prompt_ids({}, t, ""));
        single.push_back(session.complete(t).text);
    }
    for (int64_t slots : {2, 4}) {
        std::vector<std::string> batched(texts.size());
        std::vector<int> seen(texts.size(), 0);
        ASSERT_TRUE(session.replies(prompts, slots, [&](size_t i, GenerateResult&& r) {
            batched.at(i) = r.text;
            ++seen.at(i);
            return true;
        }));
        for (size_t i = 0; i < texts.size(); ++i) {
            EXPECT_EQ(seen[i], 1) << "row " << i;
            EXPECT_EQ(batched[i], single[i]) << "slots " << slots << " row " << i;
        }
    }
    EXPECT_NE(single[0], single[1]);
}

TEST(BatchedGeneration, ASeedReproducesASampledReplyAndAnotherSeedDiffers) {
    auto session = stories(true);
    const auto a = session.complete("Tom and his dog").text;
    EXPECT_EQ(session.complete("Tom and his dog").text, a);
    session.generation().seed = 1234;
    EXPECT_NE(session.complete("Tom and his dog").text, a);
    // a batched row i samples with seed + i: row 0 of a batch is the single reply with that seed
    session.generation().seed = 42;
    std::string row0;
    session.replies({session.prompt_ids({}, "Tom and his dog", ""), session.prompt_ids({}, "Lily", "")}, 2,
                    [&](size_t i, GenerateResult&& r) {
                        if (i == 0) row0 = r.text;
                        return true;
                    });
    EXPECT_EQ(row0, a);
}
