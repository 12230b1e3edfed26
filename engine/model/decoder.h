// The decoder-only transformer for ChatGLM2/3, LLaMA and Qwen2 as one class with
// config-driven variants. Every weight's name is its checkpoint key.
//
// Shape legend: B batch, T new positions, S cached + new positions, H hidden, nh query heads,
// nkv key/value heads, hd head dim, I FFN width, V vocabulary rows. Layout is batch-first
// [B, T, H] for every architecture (ChatGLM's sequence-first layout is a Python detail).
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/attention.h"
#include "model/kv_cache.h"
#include "model/linear.h"
#include "model/model_config.h"
#include "model/rope.h"

namespace tb {

// RMSNorm, or LayerNorm where it has a bias (ChatGLM-6B: mean-centred, weight and bias).
struct Norm {
    std::string name;  // without ".weight"
    at::Tensor weight; // [H]
    at::Tensor bias;   // [H]: LayerNorm
    double eps = 1e-6;
    bool round_once = false;  // ChatGLM: one rounding after the weight; LLaMA: round, then scale
    at::Tensor operator()(const at::Tensor& x) const;
};

struct DecoderLayer {
    Norm input_norm, post_norm;
    Norm q_norm, k_norm;  // Qwen3: over each head (weight [head_dim])
    Norm attn_out_norm, mlp_out_norm;  // glm4: post_self_attn_layernorm, post_mlp_layernorm
    Linear qkv;           // ChatGLM query_key_value: rows q | k | v (ChatGLM-6B: per head, [q_h | k_h | v_h])
    Linear q, k, v;       // LLaMA / Qwen2
    Linear o;             // dense / o_proj
    Linear gate_up;       // ChatGLM dense_h_to_4h, GLM gate_up_proj: rows gate | up
    Linear gate, up;      // LLaMA / Qwen2; up alone: ChatGLM-6B's dense_h_to_4h (GELU, no gate)
    Linear down;          // dense_4h_to_h / down_proj
};

struct ForwardOptions {
    // [B, T] int64; default cache.length() + arange(T). ChatGLM-6B: each token's index from its row's
    // first real token, or its 2-D positions [B, 2, T] (model/prefix_lm.h); the prefix mask follows.
    at::Tensor position_ids;
    at::Tensor key_mask;      // [B, S] (1 = real token) for padded batches; default none
    Segments segments;        // neat packing: a token attends only within its example (model/attention.h)
    bool last_only = false;   // logits for the last position only
    bool adapters = true;     // false: unmerged LoRA weights are not applied (PEFT's disable_adapter())
    // Training only:
    bool gradient_checkpointing = false;  // recompute each layer in backward (model/checkpointing.h)
    bool checkpoint_mlp_only = false;     // with it: recompute only each layer's MLP (selective)
    double neftune_noise_alpha = 0;       // NEFTune: uniform noise on the embeddings, alpha/sqrt(T·H)
};

struct LoadOptions {
    std::string dtype = "auto";  // auto | float32 | float16 | bfloat16
    std::string device = "cpu";  // cpu | cuda | cuda:N | auto
    std::function<void(int64_t done, int64_t total)> progress;
    // 4 | 8: decoder-layer linears are quantized as they load (QLoRA), so the dense model
    // never has to fit in memory at once.
    int quantization_bit = 0;
    bool double_quantization = true;
    std::string flash_attn = "auto";  // attention kernel (model/attention.h)
};

class Model {
public:
    // Loads config.json and the weights tensor by tensor into dtype/device.
    static std::shared_ptr<Model> load(const std::filesystem::path& folder, const LoadOptions& options = {});
    // Random weights (normal, std 0.02; norms near 1) for tests and the demo.
    static std::shared_ptr<Model> random(const ModelConfig& config, uint64_t seed,
                                         at::ScalarType dtype = at::kFloat,
                                         at::Device device = at::kCPU);

    // ids [B, T] int64 → logits [B, T or 1, V] in the model dtype. Appends to `cache` if given.
    at::Tensor forward(const at::Tensor& ids, KVCache* cache, const ForwardOptions& options = {}) const;
    // The summed next-token cross-entropy of ids [B, T] against labels [B, T] (label t+1 for
    // position t; ignore_index rows count for nothing), an fp32 scalar, without materialising the
    // logits where lm_head is a plain weight (kernels/linear_cross_entropy.h).
    at::Tensor loss_sum(const at::Tensor& ids, const at::Tensor& labels, int64_t ignore_index,
                        const ForwardOptions& options = {}) const;

    // Attention of one layer over a caller's cache: q [B, nh, T, hd] and the new k, v [B, nkv, T, hd]
    // (RoPE applied) in; the caller stores k, v and attends over its cache; out [B, nh, T, hd].
    using AttendFn = std::function<at::Tensor(size_t layer, const at::Tensor& q, const at::Tensor& k,
                                              const at::Tensor& v)>;
    // ids, positions [B, T] int64 on the model's device → logits [B, T or 1, V]; the cache is the
    // caller's (infer/decode_context.h). No host synchronisation: a CUDA graph can capture it.
    // adapters: which rows get unmerged LoRA weights (the run context's choice; see AdapterRows).
    at::Tensor forward_with(const at::Tensor& ids, const at::Tensor& positions, const AttendFn& attend,
                            bool last_only, const AdapterRows& adapters = true) const;
    // The decode step's variant: the caller also applies RoPE (fused with its cache write). q, k, v
    // are the projections [B, T, nh*hd] / [B, T, nkv*hd] (possibly views into one qkv output); cos,
    // sin are rope().tables(positions); it returns the context [B, T, nh*hd]. Residual adds are
    // fused into the o/down GEMMs, in place, where the weights allow (Linear::accumulate).
    using RawAttendFn = std::function<at::Tensor(size_t layer, const at::Tensor& q, const at::Tensor& k,
                                                 const at::Tensor& v, const at::Tensor& cos, const at::Tensor& sin)>;
    at::Tensor forward_raw(const at::Tensor& ids, const at::Tensor& positions, const RawAttendFn& attend,
                           bool last_only, const AdapterRows& adapters = true) const;
    const Rope& rope() const { return rope_; }

    KVCache new_cache(int64_t initial_capacity = 256) const {
        return KVCache(config_.num_hidden_layers, initial_capacity);
    }

    // Every weight tensor with its checkpoint key (tied lm_head reported once, as the embedding).
    std::vector<std::pair<std::string, at::Tensor*>> named_weights();
    // Tensors a checkpoint stores twice, beside named_weights(): ChatGLM-6B's release keeps lm_head
    // next to the embedding it is tied to, so its exports do too (FORMATS.md §3.1).
    std::vector<std::pair<std::string, at::Tensor>> tied_copies() const;
    // Writes config.json + model.safetensors (tied head omitted, but for tied_copies()).
    void save(const std::filesystem::path& folder) const;

    const ModelConfig& config() const { return config_; }
    at::ScalarType dtype() const { return dtype_; }
    at::Device device() const { return device_; }
    std::vector<DecoderLayer>& layers() { return layers_; }
    // The decoder-layer linears (LoRA targets and quantized ones); not the output head.
    std::vector<Linear*> linears();
    Linear& lm_head() { return lm_head_; }
    at::Tensor& embedding() { return embed_; }
    bool quantized();
    AttentionKernel attention_kernel() const { return attention_kernel_; }
    // Every decoder-layer linear this architecture has (weights possibly not loaded yet).
    std::vector<Linear*> linears_for_load();

private:
    // ChatGLM-6B's layer (FORMATS.md §3.3); raw: q, k rotated here, the caller's attention gets identity tables
    at::Tensor glm6b_layer_forward(size_t i, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                   const AdapterRows& adapters, const AttendFn& attend, const RawAttendFn* raw) const;
    // recompute_mlp: the MLP half runs under gradient checkpointing (selective checkpointing)
    at::Tensor layer_forward(size_t i, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                             const AdapterRows& adapters, const AttendFn& attend, const RawAttendFn* raw = nullptr,
                             bool recompute_mlp = false) const;
    // x + down(silu(gate) * up) of post_norm(x): a layer's second half
    at::Tensor mlp_block(const DecoderLayer& L, const at::Tensor& x, const AdapterRows& adapters) const;
    at::Tensor head(at::Tensor x, bool last_only) const;
    // The embedding and the layers: [B, T, H] before the final norm (forward() without head()).
    at::Tensor layers_output(const at::Tensor& ids, KVCache* cache, const ForwardOptions& options) const;
    // silu(gate) * up, [B, T, I]
    at::Tensor gated_mlp(const DecoderLayer& L, const at::Tensor& h, const AdapterRows& adapters) const;
    Model(ModelConfig config, at::ScalarType dtype, at::Device device);
    void build_names();

    ModelConfig config_;
    at::ScalarType dtype_;
    at::Device device_;
    at::Tensor embed_;  // [V, H]
    std::string embed_name_;
    std::vector<DecoderLayer> layers_;
    Norm final_norm_;
    Linear lm_head_;
    Rope rope_;
    AttentionKernel attention_kernel_ = AttentionKernel::Fused;
};

// "auto" → cuda when available; "cuda" without CUDA → ConfigError with a hint.
at::Device resolve_device(const std::string& name);
// "auto" → the config's dtype on CUDA, float32 on CPU (half matmuls are slow or missing there).
at::ScalarType resolve_dtype(const std::string& name, const ModelConfig& config, const at::Device& device);

}  // namespace tb
