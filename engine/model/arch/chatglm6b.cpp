// ChatGLM-6B: the first generation (THUDM/chatglm-6b; FORMATS.md §3.1): model_type chatglm like ChatGLM2/3,
// told apart by the keys only its config has.
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
    return j.value("model_type", std::string()) == "chatglm" && !j.contains("ffn_hidden_size") &&
           (j.contains("position_encoding_2d") || j.contains("inner_hidden_size") || j.contains("max_sequence_length"));
}

void read_config(const ConfigKeys& r, ModelConfig& c) {
    c.arch = Arch::ChatGLM6B;
    c.num_hidden_layers = r.integer("num_layers");
    c.hidden_size = r.integer("hidden_size");
    c.num_attention_heads = r.integer("num_attention_heads");
    c.head_dim = c.hidden_size / std::max<int64_t>(1, c.num_attention_heads);
    c.num_key_value_heads = c.num_attention_heads;
    c.intermediate_size = r.integer_or("inner_hidden_size", 4 * c.hidden_size);
    c.vocab_size = r.integer("vocab_size");
    c.rms_norm_eps = r.number_or("layernorm_epsilon", 1e-5);
    c.max_position_embeddings = r.integer_or("max_sequence_length", 2048);
    c.qkv_bias = c.o_bias = c.mlp_bias = true;  // every Linear has a bias
    // no key in the release: transformers' default ties lm_head to the embedding when loading
    c.tie_word_embeddings = r.boolean_or("tie_word_embeddings", true);
    // the class defaults are the pre-slim numbering (20000 image tokens in front)
    if (!c.bos_token_id) c.bos_token_id = 150004;
    if (c.eos_token_ids.empty()) c.eos_token_ids = {150005};
    c.mask_token_id = r.integer_or("mask_token_id", 150000);
    c.gmask_token_id = r.integer_or("gmask_token_id", 150001);
    if (!r.boolean_or("position_encoding_2d", true))
        throw UnsupportedError(r.source + ": ChatGLM-6B with position_encoding_2d=false is not supported",
                               "the released ChatGLM-6B uses 2-D positions (position_encoding_2d true)");
    if (c.hidden_size % (4 * std::max<int64_t>(1, c.num_attention_heads)) != 0)
        throw ConfigError(r.source + ": hidden_size " + std::to_string(c.hidden_size) + " over " +
                              std::to_string(c.num_attention_heads) + " heads leaves no two rotary halves",
                          "ChatGLM-6B's head dimension must be a multiple of 4");
    if (r.integer_or("pre_seq_len", 0) > 0)
        throw UnsupportedError(r.source + ": P-tuning v2 prefixes (pre_seq_len) are not supported", "use a LoRA adapter instead");
    if (r.integer_or("quantization_bit", 0) != 0)
        throw UnsupportedError(r.source + ": ChatGLM-6B's own int4/int8 checkpoints (chatglm-6b-int4) are not supported",
                               "load the fp16 release (THUDM/chatglm-6b); quantization_bit is a training option");
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

// the model's own chat() format (it has no LLaMA-Factory template)
std::string chat_template(const ModelConfig&, const Tokenizer&, const std::string&) { return "chatglm6b"; }

void write_config(const ModelConfig& c, nlohmann::ordered_json& j) {
    j["architectures"] = {"ChatGLMModel"};
    if (c.mask_token_id) j["mask_token_id"] = *c.mask_token_id;
    if (c.gmask_token_id) j["gmask_token_id"] = *c.gmask_token_id;
    j["hidden_size"] = c.hidden_size;
    j["inner_hidden_size"] = c.intermediate_size;
    j["layernorm_epsilon"] = c.rms_norm_eps;
    j["max_sequence_length"] = c.max_position_embeddings;
    j["num_attention_heads"] = c.num_attention_heads;
    j["num_layers"] = c.num_hidden_layers;
    j["position_encoding_2d"] = true;
    j["vocab_size"] = c.vocab_size;
}
}  // namespace

const Family& chatglm6b_family() {
    static const Family f{"ChatGLM-6B", recognises, read_config, write_config, chatglm6b, chat_template};
    return f;
}

}  // namespace tb
