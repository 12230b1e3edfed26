// Forward pass of the decoder (MODELS.md §1.4 for ChatGLM, §4 for LLaMA/Qwen2; FORMATS.md §4.1 for Qwen3).
#include "model/decoder.h"

#include "model/attention.h"
#include "model/checkpointing.h"
#include "model/prefix_lm.h"
#include "kernels/linear_cross_entropy.h"
#include "kernels/rms_norm.h"
#include "kernels/rope_train.h"
#include "kernels/swiglu.h"

#include <cmath>

namespace tb {

at::Tensor Norm::operator()(const at::Tensor& x) const {
    if (bias.defined()) return at::layer_norm(x, {weight.size(0)}, weight, bias, eps);
    return kernels::rms_norm(x, weight, eps, round_once);
}

at::Tensor Model::forward(const at::Tensor& ids, KVCache* cache, const ForwardOptions& opt) const {
    return head(layers_output(ids, cache, opt), opt.last_only);
}

at::Tensor Model::loss_sum(const at::Tensor& ids, const at::Tensor& labels, int64_t ignore_index,
                           const ForwardOptions& opt) const {
    auto hidden = final_norm_(layers_output(ids, nullptr, opt));  // [B, T, H]
    const int64_t T = hidden.size(1), H = hidden.size(2);
    auto h = hidden.narrow(1, 0, T - 1).reshape({-1, H});
    auto y = labels.to(device_).narrow(1, 1, T - 1).reshape({-1});
    const bool plain = lm_head_.weight.defined() && !lm_head_.quant && !lm_head_.lora && !lm_head_.bias.defined();
    if (plain) return kernels::linear_cross_entropy(h, lm_head_.weight, y, ignore_index);
    return at::cross_entropy_loss(lm_head_(h).to(at::kFloat), y, {}, at::Reduction::Sum, ignore_index);
}

at::Tensor Model::layers_output(const at::Tensor& ids, KVCache* cache, const ForwardOptions& opt) const {
    const auto& c = config_;
    const int64_t B = ids.size(0), T = ids.size(1);
    const int64_t past = cache ? cache->length() : 0;
    at::Tensor positions = opt.position_ids;
    if (!positions.defined()) {
        positions = at::arange(past, past + T, at::TensorOptions().dtype(at::kLong).device(device_))
                        .unsqueeze(0).expand({B, T});
    }
    positions = positions.to(device_);
    at::Tensor prefix;  // ChatGLM-6B: the columns every query sees
    if (c.prefix_lm() && positions.dim() == 2) {  // token indices → 2-D positions
        at::Tensor anchors = cache ? cache->anchors() : at::Tensor();
        if (!anchors.defined() || past == 0) {
            anchors = prefix_lm_anchors(ids.to(device_), positions, c);
            if (cache) cache->set_anchors(anchors);
        }
        if (past == 0) prefix = anchors.select(1, 2);
        positions = prefix_lm_positions(anchors, positions);
    }
    auto [cos, sin] = rope_.tables(positions);

    at::Tensor x = at::embedding(embed_, ids.to(device_));  // [B, T, H]
    if (opt.neftune_noise_alpha > 0) {
        // transformers' neftune_post_forward_hook: mag = alpha / sqrt(T * H), uniform(-mag, mag)
        const double mag = opt.neftune_noise_alpha / std::sqrt(static_cast<double>(T * c.hidden_size));
        x = x + at::empty_like(x).uniform_(-mag, mag);
    }
    if (opt.gradient_checkpointing && !x.requires_grad()) x.requires_grad_(true);  // so backward reaches layer 0
    const AttendFn attend = [this, cache, mask = opt.key_mask, segments = opt.segments, prefix](
                                size_t i, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
        if (!cache) return attention(q, k, v, mask, attention_kernel_, segments, prefix);
        auto [K, V] = cache->append(i, k, v);  // [B, nkv, S, hd]
        return attention(q, K, V, mask, attention_kernel_, segments, prefix);
    };
    for (size_t i = 0; i < layers_.size(); ++i) {
        if (opt.gradient_checkpointing && opt.checkpoint_mlp_only) {
            x = layer_forward(i, x, cos, sin, opt.adapters, attend, nullptr, true);
        } else if (opt.gradient_checkpointing) {
            x = checkpointed(x, [this, i, cos, sin, attend, adapters = opt.adapters](const at::Tensor& in) {
                return layer_forward(i, in, cos, sin, adapters, attend);
            });
        } else {
            x = layer_forward(i, x, cos, sin, opt.adapters, attend);
        }
    }
    if (cache) cache->advance(T);
    return x;
}

at::Tensor Model::forward_with(const at::Tensor& ids, const at::Tensor& positions, const AttendFn& attend,
                               bool last_only, const AdapterRows& adapters) const {
    auto [cos, sin] = rope_.tables(positions);
    at::Tensor x = at::embedding(embed_, ids);  // [B, T, H]
    for (size_t i = 0; i < layers_.size(); ++i) x = layer_forward(i, x, cos, sin, adapters, attend);
    return head(x, last_only);
}

at::Tensor Model::forward_raw(const at::Tensor& ids, const at::Tensor& positions, const RawAttendFn& attend,
                              bool last_only, const AdapterRows& adapters) const {
    auto [cos, sin] = rope_.tables(positions);
    at::Tensor x = at::embedding(embed_, ids);  // [B, T, H]
    const RawAttendFn* layer_attend = &attend;
    RawAttendFn identity;
    if (rope_.two_d()) {  // ChatGLM-6B's layers rotate q, k themselves: the caller's cache write gets identity tables
        auto one = at::ones_like(cos), zero = at::zeros_like(sin);
        identity = [&attend, one, zero](size_t layer, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                        const at::Tensor&, const at::Tensor&) { return attend(layer, q, k, v, one, zero); };
        layer_attend = &identity;
    }
    for (size_t i = 0; i < layers_.size(); ++i) x = layer_forward(i, x, cos, sin, adapters, {}, layer_attend);
    return head(x, last_only);
}

at::Tensor Model::head(at::Tensor x, bool last_only) const {
    if (last_only) x = x.narrow(1, x.size(1) - 1, 1);
    x = final_norm_(x);
    return lm_head_(x);  // [B, T, V]
}

at::Tensor Model::layer_forward(size_t i, const at::Tensor& x_in, const at::Tensor& cos, const at::Tensor& sin,
                                const AdapterRows& adapters, const AttendFn& attend, const RawAttendFn* raw,
                                bool recompute_mlp) const {
    const auto& c = config_;
    if (c.arch == Arch::ChatGLM6B) return glm6b_layer_forward(i, x_in, cos, sin, adapters, attend, raw);
    const int64_t B = x_in.size(0), T = x_in.size(1);
    at::Tensor x = x_in;
    const auto& L = layers_[i];
    auto h = L.input_norm(x);
    at::Tensor q, k, v;
    const int64_t nh = c.num_attention_heads, nkv = c.num_key_value_heads, hd = c.head_dim;
    if (raw) {  // the decode path: its attention applies RoPE itself
        if (c.fused_qkv()) {
            auto qkv = L.qkv(h, adapters);  // [B, T, q + 2kv]
            q = qkv.narrow(-1, 0, c.q_size());
            k = qkv.narrow(-1, c.q_size(), c.kv_size());
            v = qkv.narrow(-1, c.q_size() + c.kv_size(), c.kv_size());
        } else {
            q = L.q(h, adapters);
            k = L.k(h, adapters);
            v = L.v(h, adapters);
            if (c.qk_norm) {
                q = L.q_norm(q.reshape({B, T, nh, hd})).reshape({B, T, nh * hd});
                k = L.k_norm(k.reshape({B, T, nkv, hd})).reshape({B, T, nkv * hd});
            }
        }
        auto ctx = (*raw)(i, q, k, v, cos, sin);  // [B, T, nh*hd]
        // x is this forward's own residual stream (the embedding's output): accumulated in place
        if (c.sandwich_norms) {  // glm4: the outputs are normalised before they join the stream
            x.add_(L.attn_out_norm(L.o(ctx, adapters)));
            return mlp_block(L, x, adapters);
        }
        L.o.accumulate(x, ctx, adapters);
        return L.down.accumulate(x, gated_mlp(L, L.post_norm(x), adapters), adapters);
    }
    if (c.fused_qkv()) {
        auto rotated = kernels::rope_qkv(rope_, L.qkv(h, adapters), cos, sin, nh, nkv, hd);
        q = rotated[0];
        k = rotated[1];
        v = rotated[2];
    } else {
        q = L.q(h, adapters).reshape({B, T, nh, hd});
        k = L.k(h, adapters).reshape({B, T, nkv, hd});
        if (c.qk_norm) {  // Qwen3: each head's q and k normalised before RoPE
            q = L.q_norm(q);
            k = L.k_norm(k);
        }
        q = kernels::rope_train(rope_, q, cos, sin);
        k = kernels::rope_train(rope_, k, cos, sin);
        v = L.v(h, adapters).reshape({B, T, nkv, hd});
    }
    q = q.transpose(1, 2);  // [B, nh, T, hd]
    k = k.transpose(1, 2);  // [B, nkv, T, hd]
    v = v.transpose(1, 2);
    auto ctx = attend(i, q, k, v);  // [B, nh, T, hd]
    ctx = ctx.transpose(1, 2).reshape({B, T, c.q_size()});
    x = c.sandwich_norms ? x + L.attn_out_norm(L.o(ctx, adapters)) : L.o.plus(x, ctx, adapters);
    if (!recompute_mlp) return mlp_block(L, x, adapters);
    return checkpointed(x, [this, i, adapters](const at::Tensor& in) { return mlp_block(layers_[i], in, adapters); });
}

at::Tensor Model::glm6b_layer_forward(size_t i, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                      const AdapterRows& adapters, const AttendFn& attend, const RawAttendFn* raw) const {
    const auto& c = config_;
    const auto& L = layers_[i];
    const int64_t B = x.size(0), T = x.size(1), nh = c.num_attention_heads, hd = c.head_dim;
    // α = √(2·28): ChatGLMModel builds its GLMBlocks without num_layers, so each takes the
    // default 28 (the release's depth) whatever the config says
    const double alpha = std::sqrt(2.0 * 28.0);
    auto h = L.input_norm(x);
    auto qkv = L.qkv(h, adapters).view({B, T, nh, 3, hd});  // each head's rows: q | k | v
    auto q = rope_.apply(qkv.select(3, 0), cos, sin);
    auto k = rope_.apply(qkv.select(3, 1), cos, sin);
    auto v = qkv.select(3, 2);
    at::Tensor ctx;
    if (raw) {  // the decode step (forward_raw gives its cache write identity tables: q, k are rotated here)
        ctx = (*raw)(i, q.reshape({B, T, nh * hd}), k.reshape({B, T, nh * hd}), v.reshape({B, T, nh * hd}), cos, sin);
    } else {
        ctx = attend(i, q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2).reshape({B, T, nh * hd});
    }
    // the residual is the normalised input scaled by α, as GLMBlock adds it
    auto x1 = h * alpha + L.o(ctx, adapters);
    auto h2 = L.post_norm(x1);
    return h2 * alpha + L.down(at::gelu(L.up(h2, adapters), "tanh"), adapters);
}

at::Tensor Model::mlp_block(const DecoderLayer& L, const at::Tensor& x, const AdapterRows& adapters) const {
    const auto h = gated_mlp(L, L.post_norm(x), adapters);
    if (config_.sandwich_norms) return x + L.mlp_out_norm(L.down(h, adapters));
    return L.down.plus(x, h, adapters);
}

at::Tensor Model::gated_mlp(const DecoderLayer& L, const at::Tensor& h, const AdapterRows& adapters) const {
    if (config_.fused_gate_up()) {
        auto u = L.gate_up(h, adapters);  // [B, T, 2I]: first half is the gate
        return kernels::swiglu_packed(u);
    }
    return kernels::swiglu(L.gate(h, adapters), L.up(h, adapters));
}

std::vector<Linear*> Model::linears() {
    std::vector<Linear*> out;
    for (auto& L : layers_) {
        for (Linear* l : {&L.qkv, &L.q, &L.k, &L.v, &L.o, &L.gate_up, &L.gate, &L.up, &L.down}) {
            if (l->weight.defined() || l->quant) out.push_back(l);
        }
    }
    return out;
}

std::vector<Linear*> Model::linears_for_load() {
    std::vector<Linear*> out;
    for (auto& L : layers_) {
        for (Linear* l : {&L.qkv, &L.q, &L.k, &L.v, &L.o, &L.gate_up, &L.gate, &L.up, &L.down}) {
            if (!l->name.empty()) out.push_back(l);
        }
    }
    return out;
}

bool Model::quantized() {
    for (Linear* l : linears())
        if (l->quant) return true;
    return false;
}

}  // namespace tb
