// The tensor sampler; each step mirrors Sampler::next (sampler.cpp).
#include "infer/token_sampler.h"

namespace tb {

at::Tensor sample_tokens(const at::Tensor& logits, const at::Tensor& seen, const at::Tensor& uniforms,
                         const GenerationConfig& c) {
    auto l = logits.to(at::kFloat);
    const int64_t V = l.size(-1);
    if (c.repetition_penalty != 1.0) {
        const double p = c.repetition_penalty;
        l = at::where(seen, at::where(l > 0, l / p, l * p), l);
    }
    if (!c.do_sample) return l.argmax(-1);
    l = l / c.temperature;
    at::Tensor values, index;  // [B, K], descending
    if (c.top_k > 0 && c.top_k < V) {
        std::tie(values, index) = at::topk(l, c.top_k, -1, /*largest=*/true, /*sorted=*/true);
    } else {
        std::tie(values, index) = at::sort(l, /*stable=*/true, -1, /*descending=*/true);
    }
    auto probs = at::softmax(values, -1);
    if (c.top_p < 1.0) {
        auto before = probs.cumsum(-1) - probs;  // mass of the entries ahead of each one
        probs = probs.masked_fill(before >= c.top_p, 0);
    }
    auto cdf = probs.cumsum(-1);
    const int64_t K = cdf.size(-1);
    auto target = uniforms.to(at::kFloat).unsqueeze(1) * cdf.narrow(-1, K - 1, 1);  // [B, 1]
    auto pick = (cdf < target).sum(-1, /*keepdim=*/true).clamp_max(K - 1);        // [B, 1]
    return index.gather(-1, pick).squeeze(-1);
}

}  // namespace tb
