// Sampling steps; top-p keeps the smallest set whose probability reaches top_p (at least one).
#include "infer/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include "core/error.h"

namespace tb {

void GenerationConfig::validate() const {
    auto fail = [](const std::string& key, const std::string& what) {
        throw ConfigError(key + " " + what);
    };
    if (temperature <= 0 && do_sample) fail("temperature", "must be > 0 when do_sample is true (use do_sample: false for greedy)");
    if (top_p <= 0 || top_p > 1) fail("top_p", "must be in (0, 1]");
    if (top_k < 0) fail("top_k", "must be ≥ 0 (0 disables it)");
    if (repetition_penalty <= 0) fail("repetition_penalty", "must be > 0 (1.0 disables it)");
    if (max_new_tokens <= 0) fail("max_new_tokens", "must be ≥ 1");
}

int64_t Sampler::next(std::vector<float>& logits, const std::vector<int64_t>& history, float u) const {
    const int64_t V = static_cast<int64_t>(logits.size());
    for (float v : logits) {
        if (!std::isfinite(v)) {
            throw Error("the model produced NaN/Inf logits",
                        "fp16 overflow is the usual cause: try --dtype bfloat16 or float32");
        }
    }
    if (config_.repetition_penalty != 1.0) {
        std::unordered_set<int64_t> seen(history.begin(), history.end());
        const float p = static_cast<float>(config_.repetition_penalty);
        for (int64_t id : seen) {
            if (id < 0 || id >= V) continue;
            float& l = logits[id];
            l = l > 0 ? l / p : l * p;
        }
    }
    if (!config_.do_sample) {
        return std::max_element(logits.begin(), logits.end()) - logits.begin();
    }
    const float t = static_cast<float>(config_.temperature);
    std::vector<int64_t> idx(V);
    std::iota(idx.begin(), idx.end(), 0);
    int64_t keep = V;
    if (config_.top_k > 0 && config_.top_k < V) keep = config_.top_k;
    // ties keep the lower id first (as a stable descending sort)
    std::partial_sort(idx.begin(), idx.begin() + keep, idx.end(), [&](int64_t a, int64_t b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    idx.resize(keep);
    std::vector<float> probs(keep);
    const float maxl = logits[idx[0]] / t;
    float sum = 0;
    for (int64_t i = 0; i < keep; ++i) sum += probs[i] = std::exp(logits[idx[i]] / t - maxl);
    for (auto& p : probs) p /= sum;
    if (config_.top_p < 1.0) {
        // keep the smallest prefix whose mass reaches top_p: an entry stays while the mass before it is below
        float before = 0;
        for (int64_t i = 0; i < keep; ++i) {
            const float p = probs[i];
            if (before >= static_cast<float>(config_.top_p)) probs[i] = 0;
            before += p;
        }
    }
    // inverse CDF: the first entry whose cumulative mass exceeds u × total
    float total = 0;
    for (float p : probs) total += p;
    const float target = u * total;
    float cum = 0;
    int64_t pick = 0;
    for (int64_t i = 0; i < keep; ++i) {
        cum += probs[i];
        if (cum < target) pick = i + 1;
    }
    return idx[std::min(pick, keep - 1)];
}

}  // namespace tb
