// Next-token choice from one row of logits, on the CPU in fp32: the scalar reference of the
// tensor sampler (token_sampler.h) that decoding runs on the model's device. Repetition penalty,
// greedy, or temperature → top-k → top-p (the order transformers' generate applies its warpers),
// then an inverse-CDF draw with one uniform number per token, so both samplers pick the same
// token for the same uniform. Deterministic for a seed.
#pragma once

#include <random>
#include <vector>

#include "infer/generation_config.h"

namespace tb {

// A uniform number in [0, 1) with 24 random bits (exactly representable as a float).
inline float uniform01(std::mt19937_64& rng) { return static_cast<float>(rng() >> 40) * (1.0f / 16777216.0f); }

class Sampler {
public:
    explicit Sampler(const GenerationConfig& config) : config_(config), rng_(config.seed) {}
    // logits: one row over the vocabulary (modified in place); history: ids so far.
    int64_t next(std::vector<float>& logits, const std::vector<int64_t>& history) {
        return next(logits, history, uniform01(rng_));
    }
    // The same with the caller's uniform number u in [0, 1).
    int64_t next(std::vector<float>& logits, const std::vector<int64_t>& history, float u) const;

private:
    GenerationConfig config_;
    std::mt19937_64 rng_;
};

}  // namespace tb
