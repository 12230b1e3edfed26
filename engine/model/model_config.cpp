// config.json parsing. ChatGLM alias table (ChatGLM key → meaning):
//   num_layers → num_hidden_layers, kv_channels → head_dim, ffn_hidden_size → intermediate_size,
//   padded_vocab_size → vocab_size, layernorm_epsilon → rms_norm_eps, seq_length →
//   max_position_embeddings, multi_query_group_num → num_key_value_heads (when
//   multi_query_attention, else = heads), add_qkv_bias → qkv bias, rope_ratio scales the base.
#include "model/model_config.h"

#include "io/gguf_reader.h"
#include "model/arch/weight_layout.h"
#include "model/gguf_layout.h"
#include "io/json_text.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"

namespace tb {
namespace {
using json = nlohmann::json;

struct Reader {
    const json& j;
    std::string source;

    [[noreturn]] void fail(const std::string& key, const std::string& expected) const {
        std::string found = j.contains(key) ? io::json_excerpt(j[key]) : "nothing";
        throw ConfigError(source + ": key '" + key + "' should be " + expected + ", found " + found,
                          "fix config.json or re-download the model's config");
    }
    int64_t integer(const std::string& key) const {
        if (!j.contains(key) || !j[key].is_number_integer()) fail(key, "an integer");
        return j[key].get<int64_t>();
    }
    int64_t integer_or(const std::string& key, int64_t dflt) const {
        if (!j.contains(key) || j[key].is_null()) return dflt;
        return integer(key);
    }
    double number_or(const std::string& key, double dflt) const {
        if (!j.contains(key) || j[key].is_null()) return dflt;
        if (!j[key].is_number()) fail(key, "a number");
        return j[key].get<double>();
    }
    bool boolean_or(const std::string& key, bool dflt) const {
        if (!j.contains(key) || j[key].is_null()) return dflt;
        if (!j[key].is_boolean()) fail(key, "true or false");
        return j[key].get<bool>();
    }
    std::string string_or(const std::string& key, const std::string& dflt) const {
        if (!j.contains(key) || j[key].is_null()) return dflt;
        if (!j[key].is_string()) fail(key, "a string");
        return j[key].get<std::string>();
    }
    std::vector<int64_t> ids(const std::string& key) const {
        std::vector<int64_t> out;
        if (!j.contains(key) || j[key].is_null()) return out;
        if (j[key].is_number_integer()) return {j[key].get<int64_t>()};
        if (!j[key].is_array()) fail(key, "an integer or a list of integers");
        for (const auto& v : j[key]) {
            if (!v.is_number_integer()) fail(key, "an integer or a list of integers");
            out.push_back(v.get<int64_t>());
        }
        return out;
    }
};

}  // namespace

const char* arch_name(Arch arch) {
    switch (arch) {
        case Arch::ChatGLM: return "ChatGLM";
        case Arch::Llama: return "LLaMA";
        case Arch::Qwen2: return "Qwen2";
        case Arch::Qwen3: return "Qwen3";
        case Arch::Glm: return "GLM-4";
        case Arch::ChatGLM6B: return "ChatGLM-6B";
    }
    return "?";
}

ModelConfig ModelConfig::from_json_text(const std::string& text, const std::string& source) {
    try {
        return parse_json_text(text, source);
    } catch (const json::exception& e) {  // a value of the wrong type (rope_parameters.rope_theta: "x")
        throw ConfigError(source + ": unexpected value (" + e.what() + ")",
                          "fix config.json or re-download the model's config");
    }
}

ModelConfig ModelConfig::parse_json_text(const std::string& text, const std::string& source) {
    json j;
    try {
        j = io::parse_json(text, source);
    } catch (const json::parse_error& e) {
        throw ConfigError(source + " is not valid JSON: " + e.what(), "the file may be truncated");
    }
    if (!j.is_object()) throw ConfigError(source + " is not a JSON object");
    Reader r{j, source};
    ModelConfig c;
    c.model_type = r.string_or("model_type", "");
    c.name_or_path = r.string_or("_name_or_path", "");
    c.torch_dtype = r.string_or("torch_dtype", r.string_or("dtype", "float32"));
    c.eos_token_ids = r.ids("eos_token_id");
    if (auto b = r.ids("bos_token_id"); !b.empty()) c.bos_token_id = b[0];
    if (auto p = r.ids("pad_token_id"); !p.empty()) c.pad_token_id = p[0];

    // ChatGLM-6B shares model_type chatglm with ChatGLM2/3: its config has keys theirs lacks (FORMATS.md §3.1)
    const bool chatglm6b = c.model_type == "chatglm" && !j.contains("ffn_hidden_size") &&
                           (j.contains("position_encoding_2d") || j.contains("inner_hidden_size") ||
                            j.contains("max_sequence_length"));
    if (chatglm6b) {
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
            throw UnsupportedError(source + ": ChatGLM-6B with position_encoding_2d=false is not supported",
                                   "the released ChatGLM-6B uses 2-D positions (position_encoding_2d true)");
        if (c.hidden_size % (4 * std::max<int64_t>(1, c.num_attention_heads)) != 0)
            throw ConfigError(source + ": hidden_size " + std::to_string(c.hidden_size) + " over " +
                                  std::to_string(c.num_attention_heads) + " heads leaves no two rotary halves",
                              "ChatGLM-6B's head dimension must be a multiple of 4");
        if (r.integer_or("pre_seq_len", 0) > 0)
            throw UnsupportedError(source + ": P-tuning v2 prefixes (pre_seq_len) are not supported", "use a LoRA adapter instead");
        if (r.integer_or("quantization_bit", 0) != 0)
            throw UnsupportedError(source + ": ChatGLM-6B's own int4/int8 checkpoints (chatglm-6b-int4) are not supported",
                                   "load the fp16 release (THUDM/chatglm-6b); quantization_bit is a training option");
    } else if (c.model_type == "chatglm") {
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
            throw UnsupportedError(source + ": rmsnorm=false (LayerNorm ChatGLM) is not supported",
                                   "ChatGLM2-6B and ChatGLM3-6B use rmsnorm=true");
        }
        if (r.boolean_or("apply_residual_connection_post_layernorm", false) ||
            !r.boolean_or("post_layer_norm", true)) {
            throw UnsupportedError(source + ": this ChatGLM variant (post-layernorm residual or no "
                                   "final norm) is not supported",
                                   "ChatGLM2-6B and ChatGLM3-6B configurations are supported");
        }
        if (r.integer_or("pre_seq_len", 0) > 0) {
            throw UnsupportedError(source + ": P-tuning v2 prefixes (pre_seq_len) are not supported",
                                   "use a LoRA adapter instead");
        }
        if (r.integer_or("quantization_bit", 0) != 0) {
            throw UnsupportedError(source + ": ChatGLM's own int4/int8 checkpoints are not supported",
                                   "load the fp16 release; quantization_bit is a training option");
        }
        // ChatGLM2's remote code computes RoPE angles in the model dtype; ChatGLM3's in fp32.
        c.glm_rope_in_model_dtype = c.name_or_path.find("chatglm2") != std::string::npos;
        if (c.eos_token_ids.empty()) c.eos_token_ids = {2};
    } else if (c.model_type == "llama" || c.model_type == "qwen2" || c.model_type == "qwen3" || c.model_type == "glm" ||
               c.model_type == "glm4") {
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
                throw UnsupportedError(source + ": rope scaling type '" + type + "' is not supported",
                                       "supported: default, linear, llama3");
            }
        }
        if (c.arch == Arch::Qwen2 || c.arch == Arch::Qwen3) {
            // Qwen2 always has q/k/v biases; Qwen3 has attention_bias (q, k, v and o; false as released)
            if (c.arch == Arch::Qwen2) c.qkv_bias = true;
            else c.qkv_bias = c.o_bias = r.boolean_or("attention_bias", false);
            c.qk_norm = c.arch == Arch::Qwen3;
            if (r.boolean_or("use_sliding_window", false)) {
                throw UnsupportedError(source + ": use_sliding_window=true is not supported",
                                       "released Qwen2 and Qwen3 models have it false");
            }
            if (c.arch == Arch::Qwen3 && (j.contains("num_experts") || j.contains("vision_config")))
                throw UnsupportedError(source + ": this Qwen3 variant (mixture of experts or vision) is not supported",
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
            throw UnsupportedError(source + ": hidden_act '" + act + "' is not supported", "expected silu");
        }
    } else {
        throw UnsupportedError(
            source + ": model_type '" + c.model_type + "' is not supported",
            "supported model_type values: chatglm (ChatGLM-6B, ChatGLM2/3), llama (LLaMA 2/3), qwen2 (Qwen2/2.5), qwen3 (Qwen3, dense), "
            "glm and glm4 (GLM-4, GLM-4-0414)");
    }
    c.validate(source);
    return c;
}

void ModelConfig::validate(const std::string& source) const {
    auto positive = [&](const char* key, int64_t v) {
        if (v <= 0) {
            throw ConfigError(source + ": " + key + " must be positive, found " + std::to_string(v),
                              "fix config.json");
        }
    };
    positive("hidden_size", hidden_size);
    positive("num_hidden_layers", num_hidden_layers);
    positive("num_attention_heads", num_attention_heads);
    positive("num_key_value_heads", num_key_value_heads);
    positive("head_dim", head_dim);
    positive("intermediate_size", intermediate_size);
    positive("vocab_size", vocab_size);
    if (num_attention_heads % num_key_value_heads != 0) {
        throw ConfigError(source + ": num_attention_heads (" + std::to_string(num_attention_heads) +
                          ") is not a multiple of the key/value head count (" +
                          std::to_string(num_key_value_heads) + ")");
    }
    if (head_dim % 4 != 0) {
        throw ConfigError(source + ": head dimension " + std::to_string(head_dim) +
                          " must be a multiple of 4 for rotary embeddings");
    }
    if (torch_dtype != "float32" && torch_dtype != "float16" && torch_dtype != "bfloat16") {
        throw UnsupportedError(source + ": torch_dtype '" + torch_dtype + "' is not supported",
                               "expected float32, float16 or bfloat16");
    }
}

ModelConfig ModelConfig::from_folder(const std::filesystem::path& folder) {
    auto path = folder / "config.json";
    if (!std::filesystem::exists(path)) {
        if (const auto gguf = gguf_model_file(folder)) return gguf_model_config(io::GgufReader(*gguf), *gguf);
        throw FileError("no config.json in " + folder.string(),
                        "--model_name_or_path must be a Hugging Face model folder (config.json + weights) or a GGUF file");
    }
    return from_json_text(io::read_file(path), path.string());
}

std::string ModelConfig::to_json_text() const {
    nlohmann::ordered_json j;
    if (!name_or_path.empty()) j["_name_or_path"] = name_or_path;
    j["model_type"] = model_type;
    if (arch == Arch::ChatGLM6B) {  // the release's keys (FORMATS.md §3.1)
        j["architectures"] = {"ChatGLMModel"};
        if (mask_token_id) j["mask_token_id"] = *mask_token_id;
        if (gmask_token_id) j["gmask_token_id"] = *gmask_token_id;
        j["hidden_size"] = hidden_size;
        j["inner_hidden_size"] = intermediate_size;
        j["layernorm_epsilon"] = rms_norm_eps;
        j["max_sequence_length"] = max_position_embeddings;
        j["num_attention_heads"] = num_attention_heads;
        j["num_layers"] = num_hidden_layers;
        j["position_encoding_2d"] = true;
        j["vocab_size"] = vocab_size;
    } else if (arch == Arch::ChatGLM) {
        j["architectures"] = {"ChatGLMModel"};
        j["add_bias_linear"] = o_bias;
        j["add_qkv_bias"] = qkv_bias;
        j["apply_query_key_layer_scaling"] = true;
        j["apply_residual_connection_post_layernorm"] = false;
        j["attention_dropout"] = 0.0;
        j["attention_softmax_in_fp32"] = true;
        j["ffn_hidden_size"] = intermediate_size;
        j["fp32_residual_connection"] = false;
        j["hidden_dropout"] = 0.0;
        j["hidden_size"] = hidden_size;
        j["kv_channels"] = head_dim;
        j["layernorm_epsilon"] = rms_norm_eps;
        j["multi_query_attention"] = num_key_value_heads != num_attention_heads;
        j["multi_query_group_num"] = num_key_value_heads;
        j["num_attention_heads"] = num_attention_heads;
        j["num_layers"] = num_hidden_layers;
        j["original_rope"] = true;
        j["padded_vocab_size"] = vocab_size;
        j["post_layer_norm"] = true;
        j["rmsnorm"] = true;
        j["seq_length"] = max_position_embeddings;
        if (rope_ratio != 1.0) j["rope_ratio"] = rope_ratio;
    } else {
        j["architectures"] = {arch == Arch::Llama   ? "LlamaForCausalLM"
                              : arch == Arch::Qwen2 ? "Qwen2ForCausalLM"
                              : arch == Arch::Qwen3 ? "Qwen3ForCausalLM"
                              : sandwich_norms      ? "Glm4ForCausalLM"
                                                    : "GlmForCausalLM"};
        j["hidden_size"] = hidden_size;
        j["intermediate_size"] = intermediate_size;
        j["num_hidden_layers"] = num_hidden_layers;
        j["num_attention_heads"] = num_attention_heads;
        j["num_key_value_heads"] = num_key_value_heads;
        j["head_dim"] = head_dim;
        j["vocab_size"] = vocab_size;
        j["max_position_embeddings"] = max_position_embeddings;
        j["rms_norm_eps"] = rms_norm_eps;
        j["rope_theta"] = rope_theta;
        j["hidden_act"] = "silu";
        if (arch == Arch::Llama) {
            j["attention_bias"] = qkv_bias;
            j["mlp_bias"] = mlp_bias;
        } else if (arch == Arch::Qwen3) {
            j["attention_bias"] = qkv_bias;
            j["use_sliding_window"] = false;
        } else if (arch == Arch::Glm) {
            j["attention_bias"] = qkv_bias;
            j["partial_rotary_factor"] = partial_rotary_factor;
        } else {
            j["use_sliding_window"] = false;
        }
        if (!rope_scaling.type.empty()) {
            j["rope_scaling"] = {{"rope_type", rope_scaling.type},
                                 {"factor", rope_scaling.factor},
                                 {"low_freq_factor", rope_scaling.low_freq_factor},
                                 {"high_freq_factor", rope_scaling.high_freq_factor},
                                 {"original_max_position_embeddings",
                                  rope_scaling.original_max_position_embeddings}};
        }
    }
    j["tie_word_embeddings"] = tie_word_embeddings;
    j["torch_dtype"] = torch_dtype;
    if (bos_token_id) j["bos_token_id"] = *bos_token_id;
    if (eos_token_ids.size() == 1) j["eos_token_id"] = eos_token_ids[0];
    else if (!eos_token_ids.empty()) j["eos_token_id"] = eos_token_ids;
    if (pad_token_id) j["pad_token_id"] = *pad_token_id;
    j["use_cache"] = true;
    return j.dump(2) + "\n";
}

int64_t ModelConfig::parameter_count() const {
    const auto layout = weight_layout(*this);
    int64_t layer = 0;
    for (const auto& w : layout.layer) {
        int64_t n = 1;
        for (int64_t d : w.shape) n *= d;
        layer += n + (w.bias ? w.shape[0] : 0);
    }
    const int64_t H = hidden_size;
    return num_hidden_layers * layer + vocab_size * H + (layout.final_norm_bias ? 2 : 1) * H +
           (tie_word_embeddings ? 0 : vocab_size * H);
}

}  // namespace tb
