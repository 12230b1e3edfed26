// ChatGLM2/3: ChatGLM2-6B, ChatGLM3-6B and GLM-4's remote code (model_type chatglm; MODELS.md §1). Key
// aliases: num_layers → layers, kv_channels → head_dim, ffn_hidden_size → intermediate_size,
// padded_vocab_size → vocab_size, layernorm_epsilon → eps, seq_length → max positions,
// multi_query_group_num → key/value heads (when multi_query_attention), rope_ratio scales the base.
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
    return j.value("model_type", std::string()) == "chatglm";
}

void read_config(const ConfigKeys& r, ModelConfig& c) {
    c.arch = Arch::ChatGLM;
    c.num_hidden_layers = r.integer("num_layers");
    c.hidden_size = r.integer("hidden_size");
    c.num_attention_heads = r.integer("num_attention_heads");
    c.head_dim = r.integer_or("kv_channels", c.hidden_size / std::max<int64_t>(1, c.num_attention_heads));
    c.num_key_value_heads = r.boolean_or("multi_query_attention", false)
                                ? r.integer_or("multi_query_group_num", 1)
                                : c.num_attention_heads;
    c.intermediate_size = r.integer("ffn_hidden_size");
    c.vocab_size = r.integer_or("padded_vocab_size", r.integer_or("vocab_size", 0));
    if (c.vocab_size == 0) r.fail("padded_vocab_size", "a positive integer");
    c.rms_norm_eps = r.number_or("layernorm_epsilon", 1e-5);
    c.max_position_embeddings = r.integer_or("seq_length", 2048);
    c.qkv_bias = r.boolean_or("add_qkv_bias", false);
    c.o_bias = c.mlp_bias = r.boolean_or("add_bias_linear", false);
    c.rope_ratio = r.number_or("rope_ratio", 1.0);
    c.rope_theta = 10000.0 * c.rope_ratio;
    c.tie_word_embeddings = r.boolean_or("tie_word_embeddings", false);
    if (!r.boolean_or("rmsnorm", true)) {
        throw UnsupportedError(r.source + ": rmsnorm=false (LayerNorm ChatGLM) is not supported",
                               "ChatGLM2-6B and ChatGLM3-6B use rmsnorm=true");
    }
    if (r.boolean_or("apply_residual_connection_post_layernorm", false) ||
        !r.boolean_or("post_layer_norm", true)) {
        throw UnsupportedError(r.source + ": this ChatGLM variant (post-layernorm residual or no "
                               "final norm) is not supported",
                               "ChatGLM2-6B and ChatGLM3-6B configurations are supported");
    }
    if (r.integer_or("pre_seq_len", 0) > 0) {
        throw UnsupportedError(r.source + ": P-tuning v2 prefixes (pre_seq_len) are not supported",
                               "use a LoRA adapter instead");
    }
    if (r.integer_or("quantization_bit", 0) != 0) {
        throw UnsupportedError(r.source + ": ChatGLM's own int4/int8 checkpoints are not supported",
                               "load the fp16 release; quantization_bit is a training option");
    }
    // ChatGLM2's remote code computes RoPE angles in the model dtype; ChatGLM3's in fp32.
    c.glm_rope_in_model_dtype = c.name_or_path.find("chatglm2") != std::string::npos;
    if (c.eos_token_ids.empty()) c.eos_token_ids = {2};
}

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

std::string chat_template(const ModelConfig&, const Tokenizer& tok, const std::string&) {
    // GLM-4's remote code (its tiktoken vocabulary has <sop> and <|endoftext|>); ChatGLM3's tokenizer
    // has the role tokens, ChatGLM2's stops at eop (tokenizer.cpp reads which from the name_or_path
    // keys: the two releases' files differ in nothing else)
    if (tok.token_to_id("<sop>") && tok.token_to_id("<|endoftext|>")) return "glm4";
    return tok.token_to_id("<|user|>") ? "chatglm3" : "chatglm2";
}

void write_config(const ModelConfig& c, nlohmann::ordered_json& j) {
    j["architectures"] = {"ChatGLMModel"};
    j["add_bias_linear"] = c.o_bias;
    j["add_qkv_bias"] = c.qkv_bias;
    j["apply_query_key_layer_scaling"] = true;
    j["apply_residual_connection_post_layernorm"] = false;
    j["attention_dropout"] = 0.0;
    j["attention_softmax_in_fp32"] = true;
    j["ffn_hidden_size"] = c.intermediate_size;
    j["fp32_residual_connection"] = false;
    j["hidden_dropout"] = 0.0;
    j["hidden_size"] = c.hidden_size;
    j["kv_channels"] = c.head_dim;
    j["layernorm_epsilon"] = c.rms_norm_eps;
    j["multi_query_attention"] = c.num_key_value_heads != c.num_attention_heads;
    j["multi_query_group_num"] = c.num_key_value_heads;
    j["num_attention_heads"] = c.num_attention_heads;
    j["num_layers"] = c.num_hidden_layers;
    j["original_rope"] = true;
    j["padded_vocab_size"] = c.vocab_size;
    j["post_layer_norm"] = true;
    j["rmsnorm"] = true;
    j["seq_length"] = c.max_position_embeddings;
    if (c.rope_ratio != 1.0) j["rope_ratio"] = c.rope_ratio;
}
}  // namespace

const Family& chatglm_family() {
    static const Family f{"ChatGLM2/3", recognises, read_config, write_config, chatglm, chat_template};
    return f;
}

}  // namespace tb
