// PEFT-compatible LoRA (MODELS.md §5): attach to a model's linears with PEFT's initialisation,
// save and load PEFT's adapter layout (adapter_config.json + adapter_model.safetensors, keys
// base_model.model.<module path>.lora_A.weight), and merge into the base weights.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "adapters/lora_config.h"
#include "io/tensor_io.h"

namespace tb {

class Model;

// LLaMA-Factory's lora_target: "all" → every linear leaf name except the output head;
// otherwise a comma list, each entry checked against the model (ConfigError listing names).
std::vector<std::string> resolve_lora_targets(Model& model, const std::string& spec);

// Adds fresh adapters (A ~ U(±1/sqrt(in)) from `seed`, B = 0, fp32, rounded through the base
// dtype first as PEFT does) to every targeted linear; returns the trainable parameter count.
int64_t attach_lora(Model& model, const LoraConfig& config, uint64_t seed);

// AdaLoRA (c.adalora): A, B ~ N(0, 0.02) and E = 0 of rank init_r, as PEFT's AdaLoraLayer; returns
// the trainable parameter count.
int64_t attach_adalora(Model& model, const LoraConfig& config, uint64_t seed);

// Attaches the adapter saved in `dir` (its own config) with its weights; FileError when a tensor
// does not fit the model or matches no module. An AdaLoRA adapter comes in with E folded into A
// (for inference, merging and export; it is not trained further).
LoraConfig load_lora(Model& model, const std::filesystem::path& dir);

// lora_A / lora_B (and AdaLoRA's lora_E, all ranks) of every adapted linear under PEFT's keys (fp32, CPU).
io::NamedTensors lora_state_dict(Model& model);

// Writes adapter_config.json, adapter_model.safetensors and a README.md model card into `dir`
// (each file atomically). AdaLoRA matrices are cut to the ranks config.rank_pattern keeps, as PEFT saves them.
void save_lora(Model& model, const LoraConfig& config, const std::filesystem::path& dir);

// W += (B @ A) * scaling in fp32, rounded once to W's dtype; removes the adapters.
// UnsupportedError for a quantized base.
int merge_lora(Model& model);

struct LoraMergeReport {
    int merged_modules = 0;
    int rank = 0;
    double scaling = 0;
};
// For inference: load_lora + merge_lora.
LoraMergeReport merge_lora_adapter(Model& model, const std::filesystem::path& adapter_dir);

}  // namespace tb
