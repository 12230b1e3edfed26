// Attention dispatch: fused SDPA or the eager math path (attention.h).
#include "model/attention.h"

#include "kernels/training_kernels.h"

#include <cmath>
#include <limits>

namespace tb {
namespace {

at::Tensor expand_kv(const at::Tensor& x, int64_t heads) {
    const int64_t groups = x.size(1);
    if (groups == heads) return x;
    const int64_t rep = heads / groups;
    return x.unsqueeze(2).expand({x.size(0), groups, rep, x.size(2), x.size(3)})
        .reshape({x.size(0), heads, x.size(2), x.size(3)});
}

// allowed[b, 0, i, j]: key j is visible to query i (absolute position S-T+i).
at::Tensor build_mask(int64_t T, int64_t S, const at::Tensor& key_mask, const at::Device& device,
                      const Segments& segments, const at::Tensor& prefix) {
    auto qpos = at::arange(S - T, S, at::TensorOptions().dtype(at::kLong).device(device)).unsqueeze(1);
    auto kpos = at::arange(0, S, at::TensorOptions().dtype(at::kLong).device(device)).unsqueeze(0);
    auto allowed = (kpos <= qpos).unsqueeze(0).unsqueeze(0);  // [1, 1, T, S]
    if (prefix.defined())  // get_masks: every query sees the prompt before <sop>
        allowed = allowed | (kpos < prefix.to(device).unsqueeze(1)).unsqueeze(1).unsqueeze(1);  // [B, 1, T, S]
    if (segments.defined()) {  // block-diagonal: LLaMA-Factory's prepare_4d_attention_mask
        auto seg = segments.ids.to(device);
        auto same = seg.narrow(1, S - T, T).unsqueeze(2) == seg.unsqueeze(1);  // [B, T, S]
        allowed = allowed & same.unsqueeze(1);
    }
    if (key_mask.defined()) {
        allowed = allowed & key_mask.to(at::kBool).unsqueeze(1).unsqueeze(1);  // [B, 1, T, S]
        // A padded query row with no visible key would give NaN; let it see everything (as
        // ChatGLM's get_masks does). Its output is never used.
        auto none = allowed.logical_not().all(-1, /*keepdim=*/true);
        allowed = allowed | none;
    }
    return allowed;
}

at::Tensor eager_attention(const at::Tensor& q, const at::Tensor& K, const at::Tensor& V, const at::Tensor& key_mask,
                           const Segments& segments, const at::Tensor& prefix) {
    const int64_t T = q.size(2), S = K.size(2);
    const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(3)));
    auto scores = at::matmul(q.to(at::kFloat), K.to(at::kFloat).transpose(-2, -1)) * scale;
    if (key_mask.defined() || segments.defined() || T != 1) {
        auto allowed = build_mask(T, S, key_mask, q.device(), segments, prefix);
        scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
    }
    auto probs = at::softmax(scores, -1);
    return at::matmul(probs, V.to(at::kFloat)).to(q.scalar_type());
}

// Flash attention's variable-length kernel takes the packed examples as separate sequences: CUDA,
// 16-bit, head_dim a multiple of 8 up to 256, no padding mask, no cache (the training forward).
bool varlen_flash_applies(const at::Tensor& q, const at::Tensor& key_mask, const Segments& segments, int64_t S) {
    const auto dtype = q.scalar_type();
    return segments.cu_seqlens.defined() && q.is_cuda() && (dtype == at::kBFloat16 || dtype == at::kHalf) &&
           !key_mask.defined() && q.size(2) == S && q.size(3) % 8 == 0 && q.size(3) <= 256 &&
           kernels::training_kernels_enabled();
}

at::Tensor varlen_flash_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const Segments& segments) {
    const int64_t B = q.size(0), nh = q.size(1), T = q.size(2), hd = q.size(3);
    auto flat = [&](const at::Tensor& x) { return x.transpose(1, 2).reshape({B * T, x.size(1), hd}); };  // [B·T, heads, hd]
    // causal within each sequence; the grouped key/value heads are read as they are; autograd
    // takes the matching _flash_attention_backward
    auto out = std::get<0>(at::_flash_attention_forward(flat(q), flat(k), flat(v), segments.cu_seqlens, segments.cu_seqlens,
                                                        segments.max_len, segments.max_len, 0.0, true, false));
    return out.view({B, T, nh, hd}).transpose(1, 2);
}

}  // namespace

AttentionKernel kernel_for_flash_attn(const std::string& flash_attn) {
    return flash_attn == "disabled" ? AttentionKernel::Eager : AttentionKernel::Fused;
}

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const at::Tensor& key_mask, AttentionKernel kernel, const Segments& segments,
                     const at::Tensor& prefix) {
    const int64_t heads = q.size(1), T = q.size(2), S = k.size(2);
    if (kernel == AttentionKernel::Fused && !prefix.defined() && varlen_flash_applies(q, key_mask, segments, S))
        return varlen_flash_attention(q, k, v, segments);
    const bool masked = key_mask.defined() || segments.defined() || (prefix.defined() && T > 1);
    const bool plain_causal = !masked && T == S;
    const bool no_mask = !masked && T == 1;
    if (kernel == AttentionKernel::Fused) {
        // Unmasked on CUDA, the flash kernels read the key/value groups directly (no ×heads/groups
        // copies in the forward, no summing of them in the backward). With a mask the kernel that
        // takes one has no grouped form (torch would fall back to the math path), and the CPU keeps
        // the expanded reference.
        const bool gqa = q.is_cuda() && k.size(1) != heads && (plain_causal || no_mask) &&
                         kernels::training_kernels_enabled();
        auto K = gqa ? k : expand_kv(k, heads);
        auto V = gqa ? v : expand_kv(v, heads);
        if (plain_causal) return at::scaled_dot_product_attention(q, K, V, {}, 0.0, true, std::nullopt, gqa);
        if (no_mask) return at::scaled_dot_product_attention(q, K, V, {}, 0.0, false, std::nullopt, gqa);
        return at::scaled_dot_product_attention(q, K, V, build_mask(T, S, key_mask, q.device(), segments, prefix), 0.0, false,
                                                std::nullopt, gqa);
    }
    return eager_attention(q, expand_kv(k, heads), expand_kv(v, heads), key_mask, segments, prefix);
}

}  // namespace tb
