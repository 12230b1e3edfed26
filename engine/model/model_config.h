// ModelConfig: the architecture facts read from a Hugging Face config.json, key for key.
// Each family reads its own keys (engine/model/arch/family.h; ChatGLM's aliases in arch/chatglm.cpp).
// Not the weights, not the tokenizer; no torch here so the UI can include it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tb {

// ChatGLM: ChatGLM2/3 (remote code, model_type chatglm); Glm: transformers' glm and glm4 (GLM-4,
// GLM-4-0414): ChatGLM's math with q/k/v split and transformers' names. ChatGLM6B: the first
// generation (also model_type chatglm; FORMATS.md §3): LayerNorm, GELU, 2-D RoPE, prefix-LM mask.
enum class Arch { ChatGLM, Llama, Qwen2, Qwen3, Glm, ChatGLM6B };

struct RopeScaling {
    std::string type;  // "", "linear", "llama3" or "factors"
    double factor = 1.0;
    double low_freq_factor = 1.0;
    double high_freq_factor = 4.0;
    double original_max_position_embeddings = 8192;
    // "factors": a divisor per rotary frequency, as a GGUF's rope_freqs tensor gives them
    std::vector<float> freq_factors;
};

struct ModelConfig {
    std::string model_type;  // "chatglm" | "llama" | "qwen2" | "qwen3" | "glm" | "glm4"
    Arch arch = Arch::Llama;
    int64_t hidden_size = 0;
    int64_t num_hidden_layers = 0;
    int64_t num_attention_heads = 0;
    int64_t num_key_value_heads = 0;
    int64_t head_dim = 0;
    int64_t intermediate_size = 0;
    int64_t vocab_size = 0;
    int64_t max_position_embeddings = 2048;
    double rms_norm_eps = 1e-6;
    double rope_theta = 10000.0;
    RopeScaling rope_scaling;
    bool tie_word_embeddings = false;
    bool qkv_bias = false;   // ChatGLM add_qkv_bias, Qwen2 always, LLaMA attention_bias
    bool o_bias = false;     // LLaMA attention_bias
    bool mlp_bias = false;   // LLaMA mlp_bias
    bool qk_norm = false;    // Qwen3: RMSNorm over each head's q and k (weight [head_dim]) before RoPE
    bool sandwich_norms = false;          // glm4: RMSNorm on the attention's and the MLP's outputs too
    double partial_rotary_factor = 0.5;  // GLM: the rotated share of each head (ChatGLM: always half)
    std::string torch_dtype = "float32";
    std::vector<int64_t> eos_token_ids;
    std::optional<int64_t> bos_token_id;
    std::optional<int64_t> pad_token_id;
    // ChatGLM only
    double rope_ratio = 1.0;
    bool glm_rope_in_model_dtype = false;  // ChatGLM2's HF code builds RoPE angles in fp16/bf16
    std::string name_or_path;              // "_name_or_path", used for template detection
    // ChatGLM-6B only: its mask tokens ([MASK], [gMASK]); positions after <sop> (bos) stay at the mask's
    std::optional<int64_t> mask_token_id, gmask_token_id;

    // Parses and validates; ConfigError naming file, key, value and what was expected.
    static ModelConfig from_json_text(const std::string& text, const std::string& source);
    static ModelConfig from_folder(const std::filesystem::path& folder);
    // HF config.json text for this architecture (ChatGLM names for chatglm).
    std::string to_json_text() const;
    void validate(const std::string& source) const;

    int64_t rotary_dim() const {
        if (arch == Arch::ChatGLM) return head_dim / 2;
        if (arch == Arch::ChatGLM6B) return head_dim;  // two halves: position, block position
        return arch == Arch::Glm ? static_cast<int64_t>(static_cast<double>(head_dim) * partial_rotary_factor) : head_dim;
    }
    // The family's layout (one place for what the layers, weights and RoPE follow):
    bool fused_qkv() const { return arch == Arch::ChatGLM; }  // query_key_value: rows q | k | v
    bool fused_gate_up() const { return arch == Arch::ChatGLM || arch == Arch::Glm; }  // rows gate | up
    bool interleaved_rope() const { return arch == Arch::ChatGLM || arch == Arch::Glm; }  // pairs (2i, 2i+1)
    // ChatGLM-6B: the prompt up to <sop> is attended bidirectionally, with 2-D positions (model/prefix_lm.h)
    bool prefix_lm() const { return arch == Arch::ChatGLM6B; }
    int64_t q_size() const { return num_attention_heads * head_dim; }
    int64_t kv_size() const { return num_key_value_heads * head_dim; }
    int64_t parameter_count() const;

private:
    static ModelConfig parse_json_text(const std::string& text, const std::string& source);
};

const char* arch_name(Arch arch);

}  // namespace tb
