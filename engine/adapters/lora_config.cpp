// adapter_config.json: PEFT's LoRA config, read and validated, and written. No torch here.
#include "adapters/lora_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/json_text.h"

namespace tb {
namespace fs = std::filesystem;

double LoraConfig::scaling() const { return use_rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / r; }

LoraConfig LoraConfig::read(const fs::path& dir) {
    const auto path = dir / "adapter_config.json";
    if (!fs::exists(path)) {
        throw FileError("no adapter_config.json in " + dir.string(),
                        "adapter_name_or_path must be a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)");
    }
    nlohmann::json cfg;
    try {
        cfg = io::parse_json(io::read_file(path), path.string());
    } catch (const nlohmann::json::parse_error& e) {
        throw FileError(path.string() + " is not valid JSON: " + e.what());
    }
    return from_json(cfg, path.string());
}

LoraConfig LoraConfig::from_json(const nlohmann::json& cfg, const std::string& where) {
    try {
        return parse(cfg, where);
    } catch (const nlohmann::json::exception& e) {  // a key of the wrong type
        throw ConfigError(where + ": unexpected content (" + e.what() + ")",
                          "the adapter folder is damaged or not a PEFT LoRA adapter");
    }
}

LoraConfig LoraConfig::parse(const nlohmann::json& cfg, const std::string& where) {
    const std::string& path_string = where;
    if (!cfg.is_object()) throw ConfigError(where + ": expected a JSON object", "the adapter folder is damaged");
    auto number = [&](const char* key) {
        if (!cfg.contains(key) || !cfg[key].is_number()) throw ConfigError(path_string + ": key '" + key + "' should be a number");
        return cfg[key].get<double>();
    };
    const std::string type = cfg.value("peft_type", std::string("LORA"));
    if (type != "LORA") throw UnsupportedError(path_string + ": peft_type '" + type + "' is not supported", "only LoRA adapters");
    if (cfg.value("use_dora", false)) throw UnsupportedError(path_string + ": DoRA adapters are not supported");
    if (cfg.value("fan_in_fan_out", false)) throw UnsupportedError(path_string + ": fan_in_fan_out adapters are not supported");
    for (const char* k : {"rank_pattern", "alpha_pattern"}) {
        if (cfg.contains(k) && cfg[k].is_object() && !cfg[k].empty())
            throw UnsupportedError(path_string + ": per-module " + k + " is not supported");
    }
    LoraConfig c;
    // r scales the update by alpha/r: r 0 makes it infinite (a model full of NaN), a negative r flips it
    const double r = number("r");
    if (!(r >= 1) || r != std::floor(r) || r > 1e6)
        throw ConfigError(path_string + ": key 'r' should be a positive whole number, found " + io::json_excerpt(cfg["r"]),
                          "the adapter folder is damaged or not a LoRA adapter");
    c.r = static_cast<int64_t>(r);
    c.alpha = number("lora_alpha");
    // the update is scaled by alpha/r: a negative alpha flips it, a huge one makes it overflow
    if (!std::isfinite(c.alpha) || c.alpha <= 0 || c.alpha > 1e6)
        throw ConfigError(path_string + ": key 'lora_alpha' should be a number above 0 and at most 1e6, found " +
                              io::json_excerpt(cfg["lora_alpha"]),
                          "the adapter folder is damaged or not a LoRA adapter");
    c.dropout = cfg.value("lora_dropout", 0.0);
    c.use_rslora = cfg.value("use_rslora", false);
    if (cfg.contains("target_modules") && cfg["target_modules"].is_array())
        c.target_modules = cfg["target_modules"].get<std::vector<std::string>>();
    if (cfg.contains("base_model_name_or_path") && cfg["base_model_name_or_path"].is_string())
        c.base_model_name_or_path = cfg["base_model_name_or_path"];
    return c;
}

std::string LoraConfig::to_json() const {
    nlohmann::json j = {  // nlohmann::json objects are sorted by key, like sort_keys=True
        {"alpha_pattern", nlohmann::json::object()}, {"auto_mapping", nullptr},
        {"base_model_name_or_path", base_model_name_or_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(base_model_name_or_path)},
        {"bias", "none"}, {"fan_in_fan_out", false}, {"inference_mode", true}, {"init_lora_weights", true},
        {"layer_replication", nullptr}, {"layers_pattern", nullptr}, {"layers_to_transform", nullptr},
        {"loftq_config", nlohmann::json::object()}, {"lora_alpha", alpha}, {"lora_dropout", dropout},
        {"megatron_config", nullptr}, {"megatron_core", "megatron.core"}, {"modules_to_save", nullptr},
        {"peft_type", "LORA"}, {"r", r}, {"rank_pattern", nlohmann::json::object()}, {"revision", nullptr},
        {"target_modules", target_modules}, {"task_type", "CAUSAL_LM"}, {"use_dora", false},
        {"use_rslora", use_rslora}};
    if (alpha == std::floor(alpha) && std::abs(alpha) < 9.0e15) j["lora_alpha"] = static_cast<int64_t>(alpha);  // PEFT writes an int
    return j.dump(2) + "\n";
}

}  // namespace tb
