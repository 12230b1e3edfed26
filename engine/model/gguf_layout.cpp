#include "model/gguf_layout.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "core/error.h"
#include "export/ggml_quants.h"
#include "io/gguf_reader.h"
#include "model/arch/weight_layout.h"

namespace tb {
namespace fs = std::filesystem;

namespace {
// llama.cpp's name of each layer weight (FORMATS.md §1.8): fused weights keep their fused names
// (ChatGLM's query_key_value → attn_qkv; gate|up → ffn_up, gate rows first, §1.7)
const char* gguf_layer_name(LayerSlot slot) {
    switch (slot) {
        case LayerSlot::InputNorm: return "attn_norm";
        case LayerSlot::PostNorm: return "ffn_norm";
        case LayerSlot::QNorm: return "attn_q_norm";
        case LayerSlot::KNorm: return "attn_k_norm";
        case LayerSlot::AttnOutNorm: return "post_attention_norm";
        case LayerSlot::MlpOutNorm: return "post_ffw_norm";
        case LayerSlot::Qkv: return "attn_qkv";
        case LayerSlot::Q: return "attn_q";
        case LayerSlot::K: return "attn_k";
        case LayerSlot::V: return "attn_v";
        case LayerSlot::O: return "attn_output";
        case LayerSlot::GateUp: return "ffn_up";
        case LayerSlot::Gate: return "ffn_gate";
        case LayerSlot::Up: return "ffn_up";
        case LayerSlot::Down: return "ffn_down";
    }
    return "";
}
}  // namespace

// A checkpoint key → its llama.cpp name, from the family's weight table (model/arch/weight_layout.h).
// Only LLaMA's q/k rows are permuted (HF's half-split RoPE order → llama.cpp's pairs; Qwen's NeoX
// order and GLM's pairs are llama.cpp's own).
std::optional<GgufTensorName> gguf_tensor_name(const std::string& hf, const ModelConfig& c) {
    const auto layout = weight_layout(c);
    if (hf == layout.embed) return GgufTensorName{"token_embd.weight"};
    if (hf == layout.final_norm + ".weight") return GgufTensorName{"output_norm.weight"};
    if (hf == layout.final_norm + ".bias") return GgufTensorName{"output_norm.bias"};
    if (hf == layout.lm_head + ".weight") return GgufTensorName{"output.weight"};
    if (hf.rfind(layout.layer_prefix, 0) != 0) return std::nullopt;
    const auto rest = hf.substr(layout.layer_prefix.size());
    const auto dot = rest.find('.');
    if (dot == std::string::npos || dot == 0 || rest.find_first_not_of("0123456789") != dot) return std::nullopt;
    const std::string layer = rest.substr(0, dot), key = rest.substr(dot + 1);
    for (const auto& w : layout.layer) {
        for (const char* kind : {".weight", ".bias"}) {
            if (key != w.module + kind) continue;
            GgufTensorName t{"blk." + layer + "." + gguf_layer_name(w.slot) + kind};
            if (c.arch == Arch::Llama && (w.slot == LayerSlot::Q || w.slot == LayerSlot::K))
                t = {t.name, true, w.slot == LayerSlot::Q ? c.num_attention_heads : c.num_key_value_heads};
            return t;
        }
    }
    return std::nullopt;
}

std::optional<fs::path> gguf_model_file(const fs::path& path) {
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) return path.extension() == ".gguf" ? std::optional(path) : std::nullopt;
    if (!fs::is_directory(path, ec) || fs::exists(path / "config.json")) return std::nullopt;
    std::optional<fs::path> found;
    for (const auto& e : fs::directory_iterator(path, ec)) {
        if (e.path().extension() != ".gguf") continue;
        if (found) {
            throw FileError(path.string() + " holds several GGUF files (" + found->filename().string() + ", " +
                                e.path().filename().string() + ")",
                            "name the one to load: --model_name_or_path " + (path / found->filename()).string());
        }
        found = e.path();
    }
    return found;
}

ModelConfig gguf_model_config(const io::GgufReader& r, const fs::path& file) {
    const std::string arch = r.value("general.architecture");
    ModelConfig c;
    if (arch == "llama" || arch == "qwen2" || arch == "qwen3" || arch == "chatglm" || arch == "glm4") {
        c.model_type = arch;
        c.arch = arch == "llama" ? Arch::Llama : arch == "qwen2" ? Arch::Qwen2 : arch == "qwen3" ? Arch::Qwen3 : Arch::ChatGLM;
        c.qk_norm = c.arch == Arch::Qwen3;
        // GLM-4 as transformers has it: glm4, or chatglm with q/k/v apart (GlmForCausalLM's export)
        if (arch == "glm4" || (arch == "chatglm" && r.tensor("blk.0.attn_q.weight"))) {
            c.arch = Arch::Glm;
            c.model_type = arch == "glm4" ? "glm4" : "glm";
            c.sandwich_norms = arch == "glm4";
        }
    } else {
        throw UnsupportedError(file.string() + " is a GGUF of architecture '" + arch + "'",
                               "Tunebench reads llama, qwen2, qwen3, chatglm and glm4 GGUF files");
    }
    auto text = [&](const std::string& key) -> std::string {
        const auto v = r.value(arch + "." + key);
        if (v.empty()) throw FileError(file.string() + " lacks the key " + arch + "." + key, "it is not a complete model file");
        return v;
    };
    auto integer = [&](const std::string& key) { return std::stoll(text(key)); };
    auto or_default = [&](const std::string& key, const std::string& otherwise) {
        const auto v = r.value(arch + "." + key);
        return v.empty() ? otherwise : v;
    };
    c.hidden_size = integer("embedding_length");
    c.num_hidden_layers = integer("block_count");
    c.num_attention_heads = integer("attention.head_count");
    c.num_key_value_heads = std::stoll(or_default("attention.head_count_kv", std::to_string(c.num_attention_heads)));
    c.head_dim = std::stoll(or_default("attention.key_length", std::to_string(c.hidden_size / std::max<int64_t>(1, c.num_attention_heads))));
    c.intermediate_size = integer("feed_forward_length");
    c.max_position_embeddings = integer("context_length");
    c.rms_norm_eps = std::stod(text("attention.layer_norm_rms_epsilon"));
    c.rope_theta = std::stod(or_default("rope.freq_base", "10000"));
    const auto* embd = r.tensor("token_embd.weight");
    if (!embd || embd->shape.size() != 2) throw FileError(file.string() + " has no token_embd.weight matrix", "it is not a complete model file");
    c.vocab_size = embd->shape[0];
    c.tie_word_embeddings = r.tensor("output.weight") == nullptr;
    const bool glm = c.arch == Arch::ChatGLM;
    c.qkv_bias = r.tensor(glm ? "blk.0.attn_qkv.bias" : "blk.0.attn_q.bias") != nullptr;
    if (c.arch == Arch::Glm)  // the rotated share of each head
        c.partial_rotary_factor = std::stod(or_default("rope.dimension_count", std::to_string(c.head_dim / 2))) / static_cast<double>(c.head_dim);
    c.o_bias = r.tensor("blk.0.attn_output.bias") != nullptr;
    c.mlp_bias = r.tensor("blk.0.ffn_down.bias") != nullptr;
    if (or_default("rope.scaling.type", "") == "linear") {
        c.rope_scaling.type = "linear";
        c.rope_scaling.factor = std::stod(text("rope.scaling.factor"));
    }
    if (const auto* f = r.tensor("rope_freqs.weight")) {  // LLaMA-3.1's per-frequency divisors
        if (f->type != static_cast<uint32_t>(ggml::Type::F32) || f->shape.size() != 1)
            throw FileError(file.string() + ": rope_freqs.weight is not a vector of F32", "");
        c.rope_scaling.type = "factors";
        c.rope_scaling.freq_factors.resize(static_cast<size_t>(f->shape[0]));
        std::memcpy(c.rope_scaling.freq_factors.data(), f->data, f->nbytes);
    }
    auto id = [&](const std::string& key) -> std::optional<int64_t> {
        const auto v = r.value("tokenizer.ggml." + key);
        return v.empty() ? std::nullopt : std::optional(std::stoll(v));
    };
    c.bos_token_id = id("bos_token_id");
    c.pad_token_id = id("padding_token_id");
    if (const auto eos = id("eos_token_id")) c.eos_token_ids.push_back(*eos);
    if (const auto eot = id("eot_token_id"); eot && (c.eos_token_ids.empty() || *eot != c.eos_token_ids[0])) c.eos_token_ids.push_back(*eot);
    // the matrices' most common type says what the weights were: F32/F16/BF16 as such, blocks in bf16
    std::map<uint32_t, int> types;
    for (const auto& t : r.tensors())
        if (t.shape.size() == 2) ++types[t.type];
    uint32_t main = 0;
    for (const auto& [t, n] : types)
        if (n > types[main]) main = t;
    c.torch_dtype = main == static_cast<uint32_t>(ggml::Type::F32)   ? "float32"
                    : main == static_cast<uint32_t>(ggml::Type::F16) ? "float16"
                                                                     : "bfloat16";
    c.name_or_path = r.value("general.name");
    if (glm) {
        c.rope_ratio = c.rope_theta / 10000.0;
        // ChatGLM2's vocabulary stops before the role tokens; its remote code builds RoPE angles in the model dtype
        const auto* tokens = r.array("tokenizer.ggml.tokens");
        const bool v3 = tokens && std::find(tokens->begin(), tokens->end(), "<|user|>") != tokens->end();
        if (!v3 && c.name_or_path.find("chatglm2") == std::string::npos) c.name_or_path += " (chatglm2)";
        if (v3) {
            const auto at = c.name_or_path.find("chatglm2");
            if (at != std::string::npos) c.name_or_path.replace(at, 8, "chatglm3");
        }
        c.glm_rope_in_model_dtype = !v3;
        if (c.eos_token_ids.empty()) c.eos_token_ids = {2};
    }
    c.validate(file.string());
    return c;
}

}  // namespace tb
