// Each family's weight table; see weight_layout.h. Sources: MODELS.md (ChatGLM2/3, LLaMA, Qwen2),
// FORMATS.md §3.2 (ChatGLM-6B), §4 (Qwen3, GLM-4).
#include "model/arch/weight_layout.h"

namespace tb {

namespace {
using S = LayerSlot;

// ChatGLM2/3: fused query_key_value (rows q | k | v) and dense_h_to_4h (rows gate | up), RMSNorm
WeightLayout chatglm(const ModelConfig& c) {
    const int64_t H = c.hidden_size, I = c.intermediate_size;
    return {"transformer.embedding.word_embeddings.weight",
            "transformer.encoder.layers.",
            {{S::InputNorm, "input_layernorm", {H}},
             {S::Qkv, "self_attention.query_key_value", {c.q_size() + 2 * c.kv_size(), H}, c.qkv_bias},
             {S::O, "self_attention.dense", {H, c.q_size()}, c.o_bias},
             {S::PostNorm, "post_attention_layernorm", {H}},
             {S::GateUp, "mlp.dense_h_to_4h", {2 * I, H}, c.mlp_bias},
             {S::Down, "mlp.dense_4h_to_h", {H, I}, c.mlp_bias}},
            "transformer.encoder.final_layernorm",
            false,
            "transformer.output_layer"};
}

// ChatGLM-6B: LayerNorms with biases, every linear biased, per-head q|k|v rows, a GELU MLP (no gate)
WeightLayout chatglm6b(const ModelConfig& c) {
    const int64_t H = c.hidden_size, I = c.intermediate_size;
    return {"transformer.word_embeddings.weight",
            "transformer.layers.",
            {{S::InputNorm, "input_layernorm", {H}, true},
             {S::Qkv, "attention.query_key_value", {3 * c.q_size(), H}, true},
             {S::O, "attention.dense", {H, c.q_size()}, true},
             {S::PostNorm, "post_attention_layernorm", {H}, true},
             {S::Up, "mlp.dense_h_to_4h", {I, H}, true},
             {S::Down, "mlp.dense_4h_to_h", {H, I}, true}},
            "transformer.final_layernorm",
            true,
            "lm_head"};
}

// LLaMA, Qwen2, Qwen3 and GLM-4 (transformers' names): q/k/v apart; Qwen3's per-head q/k norms;
// GLM's fused gate_up_proj; glm4's output norms
WeightLayout transformers_layout(const ModelConfig& c) {
    const int64_t H = c.hidden_size, I = c.intermediate_size;
    WeightLayout w{"model.embed_tokens.weight", "model.layers.", {}, "model.norm", false, "lm_head"};
    auto& l = w.layer;
    l.push_back({S::InputNorm, "input_layernorm", {H}});
    l.push_back({S::Q, "self_attn.q_proj", {c.q_size(), H}, c.qkv_bias});
    l.push_back({S::K, "self_attn.k_proj", {c.kv_size(), H}, c.qkv_bias});
    l.push_back({S::V, "self_attn.v_proj", {c.kv_size(), H}, c.qkv_bias});
    if (c.qk_norm) {
        l.push_back({S::QNorm, "self_attn.q_norm", {c.head_dim}});
        l.push_back({S::KNorm, "self_attn.k_norm", {c.head_dim}});
    }
    l.push_back({S::O, "self_attn.o_proj", {H, c.q_size()}, c.o_bias});
    l.push_back({S::PostNorm, "post_attention_layernorm", {H}});
    if (c.sandwich_norms) {
        l.push_back({S::AttnOutNorm, "post_self_attn_layernorm", {H}});
        l.push_back({S::MlpOutNorm, "post_mlp_layernorm", {H}});
    }
    if (c.fused_gate_up()) {
        l.push_back({S::GateUp, "mlp.gate_up_proj", {2 * I, H}, c.mlp_bias});
    } else {
        l.push_back({S::Gate, "mlp.gate_proj", {I, H}, c.mlp_bias});
        l.push_back({S::Up, "mlp.up_proj", {I, H}, c.mlp_bias});
    }
    l.push_back({S::Down, "mlp.down_proj", {H, I}, c.mlp_bias});
    return w;
}
}  // namespace

WeightLayout weight_layout(const ModelConfig& c) {
    switch (c.arch) {
        case Arch::ChatGLM: return chatglm(c);
        case Arch::ChatGLM6B: return chatglm6b(c);
        case Arch::Llama:
        case Arch::Qwen2:
        case Arch::Qwen3:
        case Arch::Glm: return transformers_layout(c);
    }
    return transformers_layout(c);
}

}  // namespace tb
