// The model families Tunebench knows, one file each in engine/model/arch/: how a config.json of
// the family is recognised (by its keys, never by a folder's name), read into a ModelConfig and
// written back, where its weights are (names, shapes, biases: weight_layout.h) and which chat
// template its models use. No torch here.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "model/model_config.h"

namespace tb {

struct ConfigKeys;
struct WeightLayout;
class Tokenizer;

struct Family {
    const char* name;  // as users know it
    bool (*recognises)(const nlohmann::json& config);
    // the family's keys into c (model_type, the special ids and torch_dtype are read before)
    void (*read)(const ConfigKeys& r, ModelConfig& c);
    // the family's keys of config.json for c
    void (*write)(const ModelConfig& c, nlohmann::ordered_json& j);
    // its weights (weight_layout.h)
    WeightLayout (*layout)(const ModelConfig& c);
    // the chat template its models use (chat_template.h's names), given the model's tokenizer and
    // the Jinja template of its tokenizer_config.json ("" when none)
    std::string (*chat_template)(const ModelConfig& c, const Tokenizer& tok, const std::string& hf_template);
};

// In the order they are tried (ChatGLM-6B before ChatGLM2/3: both say model_type chatglm).
const std::vector<Family>& families();
// The family of a config.json object, or nullptr.
const Family* family_of(const nlohmann::json& config);
// The family that reads (and writes) configs of this architecture.
const Family& family_of(Arch arch);

const Family& chatglm6b_family();
const Family& chatglm_family();
const Family& hf_decoder_family();

}  // namespace tb
