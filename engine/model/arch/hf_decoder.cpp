// LLaMA, Qwen2, Qwen3, GLM-4: the families transformers itself defines (model_type llama, qwen2, qwen3, glm, glm4):
// their keys by transformers' names (rope settings at the top level or, transformers 5, under rope_parameters).
#include <nlohmann/json.hpp>

#include <algorithm>

#include "model/arch/config_keys.h"
#include "model/arch/family.h"
#include "model/arch/weight_layout.h"
#include "tokenizer/tokenizer.h"

namespace tb {
namespace {
using json = nlohmann::json;
using S = LayerSlot;

bool recognises(const json& j) {
    const auto t = j.value("model_type", std::string());
    return t == "llama" || t == "qwen2" || t == "qwen3" || t == "glm" || t == "glm4";
}

void read_config(const ConfigKeys& r, ModelConfig& c) {
    const auto& j = r.j;
    c.arch = c.model_type == "llama"   ? Arch::Llama
             : c.model_type == "qwen2" ? Arch::Qwen2
             : c.model_type == "qwen3" ? Arch::Qwen3
                                       : Arch::Glm;
    c.hidden_size = r.integer("hidden_size");
    c.num_hidden_layers = r.integer("num_hidden_layers");
    c.num_attention_heads = r.integer("num_attention_heads");
    c.num_key_value_heads = r.integer_or("num_key_value_heads", c.num_attention_heads);
    // Qwen3Config's head_dim defaults to 128, independent of hidden_size
    c.head_dim = r.integer_or("head_dim", c.arch == Arch::Qwen3 ? 128 : c.hidden_size / std::max<int64_t>(1, c.num_attention_heads));
    c.intermediate_size = r.integer("intermediate_size");
    c.vocab_size = r.integer("vocab_size");
    c.max_position_embeddings = r.integer_or("max_position_embeddings", 2048);
    c.rms_norm_eps = r.number_or("rms_norm_eps", 1e-6);
    c.tie_word_embeddings = r.boolean_or("tie_word_embeddings", false);
    // transformers 5 keeps θ and scaling under rope_parameters; older files at top level.
    const json* rope = nullptr;
    if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) rope = &j["rope_parameters"];
    c.rope_theta = r.number_or("rope_theta", 10000.0);
    if (rope && rope->contains("rope_theta")) c.rope_theta = (*rope)["rope_theta"].get<double>();
    if (c.arch == Arch::Glm) {  // GLM rotates the first half of each head (transformers 5 also under rope_parameters)
        c.partial_rotary_factor = r.number_or("partial_rotary_factor", 0.5);
        if (rope && rope->contains("partial_rotary_factor") && (*rope)["partial_rotary_factor"].is_number())
            c.partial_rotary_factor = (*rope)["partial_rotary_factor"].get<double>();
    }
    const json* scaling = nullptr;
    if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) scaling = &j["rope_scaling"];
    else if (rope) scaling = rope;
    if (scaling) {
        std::string type = scaling->value("rope_type", scaling->value("type", std::string("default")));
        if (type == "llama3" || type == "linear") {
            c.rope_scaling.type = type;
            c.rope_scaling.factor = scaling->value("factor", 1.0);
            c.rope_scaling.low_freq_factor = scaling->value("low_freq_factor", 1.0);
            c.rope_scaling.high_freq_factor = scaling->value("high_freq_factor", 4.0);
            c.rope_scaling.original_max_position_embeddings =
                scaling->value("original_max_position_embeddings", 8192.0);
        } else if (type != "default") {
            throw UnsupportedError(r.source + ": rope scaling type '" + type + "' is not supported",
                                   "supported: default, linear, llama3");
        }
    }
    if (c.arch == Arch::Qwen2 || c.arch == Arch::Qwen3) {
        // Qwen2 always has q/k/v biases; Qwen3 has attention_bias (q, k, v and o; false as released)
        if (c.arch == Arch::Qwen2) c.qkv_bias = true;
        else c.qkv_bias = c.o_bias = r.boolean_or("attention_bias", false);
        c.qk_norm = c.arch == Arch::Qwen3;
        if (r.boolean_or("use_sliding_window", false)) {
            throw UnsupportedError(r.source + ": use_sliding_window=true is not supported",
                                   "released Qwen2 and Qwen3 models have it false");
        }
        if (c.arch == Arch::Qwen3 && (j.contains("num_experts") || j.contains("vision_config")))
            throw UnsupportedError(r.source + ": this Qwen3 variant (mixture of experts or vision) is not supported",
                                   "supported: the dense Qwen3 models (model_type qwen3)");
    } else if (c.arch == Arch::Glm) {
        c.qkv_bias = r.boolean_or("attention_bias", true);  // q/k/v only; o_proj has none
        c.sandwich_norms = c.model_type == "glm4";
    } else {
        c.qkv_bias = c.o_bias = r.boolean_or("attention_bias", false);
        c.mlp_bias = r.boolean_or("mlp_bias", false);
    }
    std::string act = r.string_or("hidden_act", "silu");
    if (act != "silu") {
        throw UnsupportedError(r.source + ": hidden_act '" + act + "' is not supported", "expected silu");
    }
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

std::string chat_template(const ModelConfig& c, const Tokenizer& tok, const std::string& hf_template) {
    if (c.arch == Arch::Glm) return "glm4";
    if (c.arch == Arch::Qwen3) return "qwen3";
    if (c.arch == Arch::Qwen2 || hf_template.find("<|im_start|>") != std::string::npos) return "qwen";
    if (tok.token_to_id("<|eot_id|>") && hf_template.find("<|start_header_id|>") != std::string::npos) return "llama3";
    if (hf_template.find("[INST]") != std::string::npos) return "llama2";
    return "empty";  // a base model without a chat template: plain completion
}

void write_config(const ModelConfig& c, nlohmann::ordered_json& j) {
    j["architectures"] = {c.arch == Arch::Llama   ? "LlamaForCausalLM"
                          : c.arch == Arch::Qwen2 ? "Qwen2ForCausalLM"
                          : c.arch == Arch::Qwen3 ? "Qwen3ForCausalLM"
                          : c.sandwich_norms      ? "Glm4ForCausalLM"
                                                : "GlmForCausalLM"};
    j["hidden_size"] = c.hidden_size;
    j["intermediate_size"] = c.intermediate_size;
    j["num_hidden_layers"] = c.num_hidden_layers;
    j["num_attention_heads"] = c.num_attention_heads;
    j["num_key_value_heads"] = c.num_key_value_heads;
    j["head_dim"] = c.head_dim;
    j["vocab_size"] = c.vocab_size;
    j["max_position_embeddings"] = c.max_position_embeddings;
    j["rms_norm_eps"] = c.rms_norm_eps;
    j["rope_theta"] = c.rope_theta;
    j["hidden_act"] = "silu";
    if (c.arch == Arch::Llama) {
        j["attention_bias"] = c.qkv_bias;
        j["mlp_bias"] = c.mlp_bias;
    } else if (c.arch == Arch::Qwen3) {
        j["attention_bias"] = c.qkv_bias;
        j["use_sliding_window"] = false;
    } else if (c.arch == Arch::Glm) {
        j["attention_bias"] = c.qkv_bias;
        j["partial_rotary_factor"] = c.partial_rotary_factor;
    } else {
        j["use_sliding_window"] = false;
    }
    if (!c.rope_scaling.type.empty()) {
        j["rope_scaling"] = {{"rope_type", c.rope_scaling.type},
                             {"factor", c.rope_scaling.factor},
                             {"low_freq_factor", c.rope_scaling.low_freq_factor},
                             {"high_freq_factor", c.rope_scaling.high_freq_factor},
                             {"original_max_position_embeddings",
                              c.rope_scaling.original_max_position_embeddings}};
    }
}
}  // namespace

const Family& hf_decoder_family() {
    static const Family f{"LLaMA, Qwen2, Qwen3, GLM-4", recognises, read_config, write_config, transformers_layout, chat_template};
    return f;
}

}  // namespace tb
