// Sampler invariants: greedy = argmax; top_k 1 = greedy; a seed reproduces; top_p keeps only the
// nucleus; repetition penalty lowers repeated tokens; NaN logits are an error, not garbage.
#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "infer/sampler.h"

using namespace tb;

TEST(Sampler, GreedyAndTopK1AreArgmax) {
    GenerationConfig g;
    g.do_sample = false;
    std::vector<float> l = {0.1f, 2.0f, -1.0f, 1.9f};
    EXPECT_EQ(Sampler(g).next(l, {}), 1);
    g.do_sample = true;
    g.top_k = 1;
    for (int s = 0; s < 5; ++s) {
        g.seed = s;
        auto c = l;
        EXPECT_EQ(Sampler(g).next(c, {}), 1);
    }
}

TEST(Sampler, SeedReproducesAndTopPRestricts) {
    GenerationConfig g;
    g.top_k = 0;
    g.top_p = 1.0;
    g.temperature = 1.0;
    std::vector<float> l(50, 0.0f);
    std::vector<int64_t> a, b;
    Sampler s1(g), s2(g);
    std::set<int64_t> seen;
    for (int i = 0; i < 200; ++i) {
        auto c1 = l, c2 = l;
        a.push_back(s1.next(c1, {}));
        b.push_back(s2.next(c2, {}));
        seen.insert(a.back());
    }
    EXPECT_EQ(a, b);
    EXPECT_GT(seen.size(), 20u);  // uniform logits really sample
    g.top_p = 0.5;
    std::vector<float> p = {3.0f, 2.9f, -5.0f, -5.0f};  // ~52% / 47% / tiny
    Sampler s3(g);
    for (int i = 0; i < 100; ++i) {
        auto c = p;
        EXPECT_EQ(s3.next(c, {}), 0);
    }
}

TEST(Sampler, RepetitionPenalty) {
    GenerationConfig g;
    g.do_sample = false;
    g.repetition_penalty = 2.0;
    std::vector<float> l = {1.0f, 1.5f, -1.0f};
    EXPECT_EQ(Sampler(g).next(l, {1}), 0);  // 1.5 / 2 < 1.0
    EXPECT_FLOAT_EQ(l[1], 0.75f);
}

TEST(Sampler, NanLogitsAreAnError) {
    GenerationConfig g;
    std::vector<float> l = {1.0f, std::nanf("")};
    EXPECT_THROW(Sampler(g).next(l, {}), Error);
}

TEST(Sampler, InvalidSettingsNameTheKey) {
    GenerationConfig g;
    g.top_p = 1.5;
    try {
        g.validate();
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("top_p"), std::string::npos);
    }
}
