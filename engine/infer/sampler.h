// Next-token choice from one row of logits, on the CPU in fp32 so results do not depend on
// the device: repetition penalty, greedy, or temperature → top-k → top-p → multinomial
// (the order transformers' generate applies its warpers). Deterministic for a seed.
#pragma once

#include <random>
#include <vector>

#include "infer/generation_config.h"

namespace tb {

class Sampler {
public:
    explicit Sampler(const GenerationConfig& config) : config_(config), rng_(config.seed) {}
    // logits: one row over the vocabulary (modified in place); history: ids so far.
    int64_t next(std::vector<float>& logits, const std::vector<int64_t>& history);

private:
    GenerationConfig config_;
    std::mt19937_64 rng_;
};

}  // namespace tb
