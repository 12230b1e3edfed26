// PEFT's LoRA adapter config (adapter_config.json). Torch-free, so the fuzzers and the GUI's
// adapter picker can read it without the model.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tb {

struct LoraConfig {
    int64_t r = 8;
    double alpha = 16;
    double dropout = 0;
    bool use_rslora = false;
    std::vector<std::string> target_modules;  // last name components, e.g. query_key_value
    std::string base_model_name_or_path;
    // AdaLoRA (peft_type ADALORA, FORMATS.md §5): SVD-form adapters, ΔW = B (A ⊙ E) · alpha /
    // (init_r + 1e-5) whatever rank is kept; r is unused. rank_pattern: "<module>.lora_E" → which
    // of the init_r ranks are kept (the saved tensors hold only those).
    bool adalora = false;
    int64_t init_r = 12, target_r = 8, tinit = 0, tfinal = 0, deltaT = 1, total_step = 0;
    double beta1 = 0.85, beta2 = 0.85, orth_reg_weight = 0.5;
    std::map<std::string, std::vector<bool>> rank_pattern;

    double scaling() const;
    // Reads and validates <dir>/adapter_config.json (FileError / UnsupportedError naming the key).
    static LoraConfig read(const std::filesystem::path& adapter_dir);
    // The same from parsed JSON; `where` names the file in messages.
    static LoraConfig from_json(const nlohmann::json& config, const std::string& where);
    // PEFT 0.13.2's field set, sort_keys + indent 2, so every PEFT version loads it.
    std::string to_json() const;

private:
    static LoraConfig parse(const nlohmann::json& config, const std::string& where);
};

}  // namespace tb
