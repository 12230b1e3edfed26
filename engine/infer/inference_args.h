// Arguments of chat / generate / predict with LLaMA-Factory's key names. One parser for every
// source: a YAML file, key=value overrides and --key flags all arrive as one string map.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "infer/generation_config.h"
#include "tokenizer/chat_template.h"

namespace tb {

using ArgMap = std::map<std::string, std::string>;

struct InferenceArgs {
    std::string model_name_or_path;
    std::string adapter_name_or_path;
    std::string template_name;  // key "template"; empty = detect from the model folder
    std::string device = "auto";
    std::string dtype = "auto";  // keys "dtype" or "infer_dtype"
    std::string system;          // keys "system" or "default_system"
    ThinkingOptions thinking;    // keys enable_thinking, preserve_thinking (reasoning templates: qwen3)
    int quantization_bit = 0;    // 4 | 8: base kept quantized, adapters applied unmerged (QLoRA)
    std::string flash_attn = "auto";  // auto | fa2 | sdpa | disabled (model/attention.h)
    // Rows decoded together by predict and evaluate (continuous batching); LLaMA-Factory's key.
    int64_t per_device_eval_batch_size = 8;
    GenerationConfig generation;

    // Unknown keys are returned (the caller warns once, listing them).
    static InferenceArgs from_map(const ArgMap& args, std::vector<std::string>* unknown = nullptr);
};

// Flattens a YAML mapping's scalar values into an ArgMap (ConfigError naming the file).
ArgMap read_yaml_args(const std::filesystem::path& path);
// "key=value" → entry; ConfigError when it has no '='.
void apply_override(ArgMap& args, const std::string& key_equals_value);

}  // namespace tb
