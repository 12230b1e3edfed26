// config.json: the keys every family shares (model_type, special ids, dtype) here; the family's own
// keys in its file under engine/model/arch/ (family.h).
#include "model/model_config.h"

#include "io/gguf_reader.h"
#include "model/arch/config_keys.h"
#include "model/arch/family.h"
#include "model/arch/weight_layout.h"
#include "model/gguf_layout.h"
#include "io/json_text.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"

namespace tb {
using json = nlohmann::json;

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
    ConfigKeys r{j, source};
    ModelConfig c;
    c.model_type = r.string_or("model_type", "");
    c.name_or_path = r.string_or("_name_or_path", "");
    c.torch_dtype = r.string_or("torch_dtype", r.string_or("dtype", "float32"));
    c.eos_token_ids = r.ids("eos_token_id");
    if (auto b = r.ids("bos_token_id"); !b.empty()) c.bos_token_id = b[0];
    if (auto p = r.ids("pad_token_id"); !p.empty()) c.pad_token_id = p[0];

    const Family* family = family_of(j);
    if (!family) {
        throw UnsupportedError(
            source + ": model_type '" + c.model_type + "' is not supported",
            "supported model_type values: chatglm (ChatGLM-6B, ChatGLM2/3, GLM-4's remote code), llama (LLaMA 2/3), "
            "qwen2 (Qwen2/2.5), qwen3 (Qwen3, dense), glm and glm4 (GLM-4, GLM-4-0414)");
    }
    family->read(r, c);
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
    family_of(arch).write(*this, j);
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
