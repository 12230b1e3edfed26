// adapter_config.json: PEFT's LoRA config, read and validated, and written. No torch here.
#include "adapters/lora_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/json_text.h"

namespace tb {
namespace fs = std::filesystem;

double LoraConfig::scaling() const {
    if (adalora) return alpha / (static_cast<double>(init_r) + 1e-5);  // PEFT's scaling / (ranknum + 1e-5), ranknum = init_r
    return use_rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / r;
}

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

namespace {

// AdaLoraConfig's fields (FORMATS.md §5.1) and its rank_pattern of bool lists.
void read_adalora(const nlohmann::json& cfg, const std::string& where, LoraConfig& c) {
    auto whole = [&](const char* key, int64_t fallback, int64_t least) {
        if (!cfg.contains(key) || cfg[key].is_null()) return fallback;
        const auto& v = cfg[key];
        if (!v.is_number() || v.get<double>() != std::floor(v.get<double>()) || v.get<double>() < least || v.get<double>() > 1e9)
            throw ConfigError(where + ": key '" + key + "' should be a whole number ≥ " + std::to_string(least) + ", found " +
                              io::json_excerpt(v));
        return static_cast<int64_t>(v.get<double>());
    };
    c.init_r = whole("init_r", 12, 1);
    c.target_r = whole("target_r", 8, 0);
    c.tinit = whole("tinit", 0, 0);
    c.tfinal = whole("tfinal", 0, 0);
    c.deltaT = whole("deltaT", 1, 1);
    c.total_step = whole("total_step", 0, 0);
    c.beta1 = cfg.value("beta1", 0.85);
    c.beta2 = cfg.value("beta2", 0.85);
    c.orth_reg_weight = cfg.value("orth_reg_weight", 0.5);
    if (!cfg.contains("rank_pattern") || cfg["rank_pattern"].is_null()) return;
    if (!cfg["rank_pattern"].is_object()) throw ConfigError(where + ": key 'rank_pattern' should be an object of bool lists");
    for (const auto& [module, kept] : cfg["rank_pattern"].items()) {
        if (!kept.is_array() || static_cast<int64_t>(kept.size()) != c.init_r)
            throw ConfigError(where + ": rank_pattern '" + module + "' should list init_r (" + std::to_string(c.init_r) + ") true/false values");
        auto& bits = c.rank_pattern[module];
        for (const auto& b : kept) {
            if (!b.is_boolean() && !b.is_number()) throw ConfigError(where + ": rank_pattern '" + module + "' should hold true/false values");
            bits.push_back(b.is_boolean() ? b.get<bool>() : b.get<double>() != 0);
        }
    }
}

}  // namespace

LoraConfig LoraConfig::parse(const nlohmann::json& cfg, const std::string& where) {
    const std::string& path_string = where;
    if (!cfg.is_object()) throw ConfigError(where + ": expected a JSON object", "the adapter folder is damaged");
    auto number = [&](const char* key) {
        if (!cfg.contains(key) || !cfg[key].is_number()) throw ConfigError(path_string + ": key '" + key + "' should be a number");
        return cfg[key].get<double>();
    };
    const std::string type = cfg.value("peft_type", std::string("LORA"));
    if (type != "LORA" && type != "ADALORA")
        throw UnsupportedError(path_string + ": peft_type '" + type + "' is not supported", "LoRA and AdaLoRA adapters are");
    if (cfg.value("use_dora", false)) throw UnsupportedError(path_string + ": DoRA adapters are not supported");
    if (cfg.value("fan_in_fan_out", false)) throw UnsupportedError(path_string + ": fan_in_fan_out adapters are not supported");
    LoraConfig c;
    c.adalora = type == "ADALORA";
    for (const char* k : {"rank_pattern", "alpha_pattern"}) {
        if (c.adalora && std::string(k) == "rank_pattern") continue;  // AdaLoRA's kept ranks, read below
        if (cfg.contains(k) && cfg[k].is_object() && !cfg[k].empty())
            throw UnsupportedError(path_string + ": per-module " + k + " is not supported");
    }
    if (c.adalora) read_adalora(cfg, path_string, c);
    // r scales the update by alpha/r: r 0 makes it infinite (a model full of NaN), a negative r flips it
    const double r = cfg.contains("r") || !c.adalora ? number("r") : 8.0;  // AdaLoRA ignores r
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
    if (adalora) {  // AdaLoraConfig's own fields on top
        j["peft_type"] = "ADALORA";
        j["r"] = 8;  // unused by AdaLoRA; PEFT warns when it is not its default
        for (const auto& [k, v] : std::map<std::string, nlohmann::json>{
                 {"init_r", init_r}, {"target_r", target_r}, {"tinit", tinit}, {"tfinal", tfinal}, {"deltaT", deltaT},
                 {"beta1", beta1}, {"beta2", beta2}, {"orth_reg_weight", orth_reg_weight}, {"total_step", total_step}})
            j[k] = v;
        j["rank_pattern"] = rank_pattern.empty() ? nlohmann::json(nullptr) : nlohmann::json(rank_pattern);
    }
    return j.dump(2) + "\n";
}

}  // namespace tb
