// Where each family keeps its weights (engine/model/arch/): the checkpoint names, shapes and biases
// of the embedding, every decoder layer's norms and linears, the final norm and the head, in
// checkpoint order. Loading, saving, random initialisation, the parameter count, the memory
// estimate and LoRA target names all derive from this one table. No torch here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model_config.h"

namespace tb {

// The role a layer weight plays in the decoder (model/decoder.h's DecoderLayer members).
enum class LayerSlot { InputNorm, PostNorm, QNorm, KNorm, AttnOutNorm, MlpOutNorm, Qkv, Q, K, V, O, GateUp, Gate, Up, Down };

struct LayerWeight {
    LayerSlot slot;
    std::string module;          // path inside the layer, without ".weight" ("self_attn.q_proj")
    std::vector<int64_t> shape;  // of its weight
    bool bias = false;           // a ".bias" of shape [shape[0]] beside it (a LayerNorm's too)
    bool linear() const { return shape.size() == 2; }
    // the module's last name ("q_proj", "query_key_value"): what LoRA targets and PEFT call it
    std::string target_name() const { return module.substr(module.rfind('.') + 1); }
};

struct WeightLayout {
    std::string embed;          // full key of the embedding weight
    std::string layer_prefix;   // layer i's modules are layer_prefix + i + "." + module
    std::vector<LayerWeight> layer;
    std::string final_norm;     // module path, without ".weight"
    bool final_norm_bias = false;
    std::string lm_head;        // module path (absent from checkpoints when tied)
    std::string layer_module(int64_t i, const std::string& module) const {
        return layer_prefix + std::to_string(i) + "." + module;
    }
};

// The family's layout for this config (shapes from its sizes); each family's is in its file.
WeightLayout weight_layout(const ModelConfig& config);

}  // namespace tb
