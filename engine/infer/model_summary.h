// What a model folder is, for the GUI's top bar: architecture, size, dtype and the chat template
// Tunebench would pick. Reads config.json and the tokenizer only (no weights). No torch here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace tb {

struct ModelSummary {
    std::string architecture;  // "ChatGLM", "LLaMA", "Qwen2"
    int64_t parameters = 0;
    int64_t layers = 0;
    int64_t hidden_size = 0;
    std::string dtype;          // config's torch_dtype
    std::string template_name;  // detect_template's choice
    std::string tokenizer_kind;
};

// Throws tb::Error naming the file when the folder is not a model Tunebench can load.
ModelSummary describe_model(const std::filesystem::path& folder);
// "6.24B", "260K"
std::string format_parameter_count(int64_t n);

}  // namespace tb
