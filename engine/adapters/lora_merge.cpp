// PEFT adapter merge. Keys: base_model.model.<module path>.lora_A.weight [r, in] and
// .lora_B.weight [out, r]; scaling = lora_alpha / r (lora_alpha / sqrt(r) with use_rslora).
#include "adapters/lora_merge.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "io/tensor_io.h"
#include "model/decoder.h"

namespace tb {
namespace fs = std::filesystem;

LoraMergeReport merge_lora_adapter(Model& model, const fs::path& dir) {
    const auto cfg_path = dir / "adapter_config.json", weights_path = dir / "adapter_model.safetensors";
    if (!fs::exists(cfg_path)) {
        throw FileError("no adapter_config.json in " + dir.string(),
                        "adapter_name_or_path must be a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)");
    }
    if (!fs::exists(weights_path)) {
        throw FileError("no adapter_model.safetensors in " + dir.string(),
                        fs::exists(dir / "adapter_model.bin") ? "convert adapter_model.bin to safetensors (PEFT: safe_serialization=True)"
                                                              : "the adapter folder is incomplete");
    }
    nlohmann::json cfg;
    try {
        cfg = nlohmann::json::parse(io::read_file(cfg_path));
    } catch (const nlohmann::json::parse_error& e) {
        throw FileError(cfg_path.string() + " is not valid JSON: " + e.what());
    }
    auto need_number = [&](const char* key) {
        if (!cfg.contains(key) || !cfg[key].is_number())
            throw ConfigError(cfg_path.string() + ": key '" + key + "' should be a number");
        return cfg[key].get<double>();
    };
    const std::string type = cfg.value("peft_type", std::string("LORA"));
    if (type != "LORA") throw UnsupportedError(cfg_path.string() + ": peft_type '" + type + "' is not supported", "only LoRA adapters");
    if (cfg.value("use_dora", false)) throw UnsupportedError(cfg_path.string() + ": DoRA adapters are not supported");
    if (cfg.value("fan_in_fan_out", false)) throw UnsupportedError(cfg_path.string() + ": fan_in_fan_out adapters are not supported");
    if (cfg.contains("rank_pattern") && cfg["rank_pattern"].is_object() && !cfg["rank_pattern"].empty())
        throw UnsupportedError(cfg_path.string() + ": per-module rank_pattern is not supported");
    if (cfg.contains("alpha_pattern") && cfg["alpha_pattern"].is_object() && !cfg["alpha_pattern"].empty())
        throw UnsupportedError(cfg_path.string() + ": per-module alpha_pattern is not supported");
    const double r = need_number("r"), alpha = need_number("lora_alpha");
    const double scaling = cfg.value("use_rslora", false) ? alpha / std::sqrt(r) : alpha / r;

    io::SafetensorsReader st(weights_path);
    std::set<std::string> used;
    LoraMergeReport report{0, static_cast<int>(r), scaling};
    for (auto& [name, weight] : model.named_weights()) {
        const std::string suffix = ".weight";
        if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
        const std::string stem = "base_model.model." + name.substr(0, name.size() - suffix.size());
        const std::string ka = stem + ".lora_A.weight", kb = stem + ".lora_B.weight";
        if (!st.has(ka) && !st.has(kb)) continue;
        if (!st.has(ka) || !st.has(kb)) throw FileError(weights_path.string() + ": " + stem + " has only one of lora_A / lora_B");
        auto A = io::to_tensor(st.tensor(ka), at::kFloat, weight->device());  // [r, in]
        auto B = io::to_tensor(st.tensor(kb), at::kFloat, weight->device());  // [out, r]
        if (A.dim() != 2 || B.dim() != 2 || A.size(1) != weight->size(1) || B.size(0) != weight->size(0) || A.size(0) != B.size(1)) {
            throw FileError(weights_path.string() + ": " + stem + " has lora_A " + std::to_string(A.size(0)) + "x" +
                                std::to_string(A.size(1)) + " and lora_B " + std::to_string(B.size(0)) + "x" +
                                std::to_string(B.size(1)) + ", which do not fit the base weight " +
                                std::to_string(weight->size(0)) + "x" + std::to_string(weight->size(1)),
                            "this adapter was trained on a different base model");
        }
        *weight = (weight->to(at::kFloat) + at::matmul(B, A) * scaling).to(weight->scalar_type());
        used.insert(ka);
        used.insert(kb);
        ++report.merged_modules;
    }
    std::vector<std::string> unused;
    for (const auto& n : st.names())
        if (!used.count(n)) unused.push_back(n);
    if (report.merged_modules == 0 || !unused.empty()) {
        throw FileError(weights_path.string() + ": " + std::to_string(unused.size()) +
                            " adapter tensors match no module of the base model (first: " + (unused.empty() ? std::string("none") : unused[0]) + ")",
                        "this adapter was trained on a different base model, or uses modules_to_save, which is not supported yet");
    }
    log::info("adapter: merged LoRA r=", report.rank, " (scaling ", scaling, ") into ", report.merged_modules, " modules from ", dir.string());
    return report;
}

}  // namespace tb
