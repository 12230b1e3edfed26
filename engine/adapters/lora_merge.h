// Applying a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) to a loaded
// model by merging it into the base weights: W += (B @ A) * scaling, computed in fp32 and
// rounded once to W's dtype (PEFT merge_and_unload). For inference; training keeps LoRA
// separate (training issue).
#pragma once

#include <filesystem>

namespace tb {

class Model;

struct LoraMergeReport {
    int merged_modules = 0;
    int rank = 0;
    double scaling = 0;
};

// FileError / ConfigError naming the file and key when the adapter does not fit the model.
LoraMergeReport merge_lora_adapter(Model& model, const std::filesystem::path& adapter_dir);

}  // namespace tb
