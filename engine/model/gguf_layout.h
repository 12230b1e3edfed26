// How a model is laid out in a GGUF file (FORMATS.md §1.6–1.8): each Hugging Face weight's
// llama.cpp name (and whether LLaMA's q/k rows are permuted), and the ModelConfig its metadata
// describes. Shared by the GGUF export and by loading a GGUF back. No torch here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "model/model_config.h"

namespace tb {

namespace io {
class GgufReader;
}

struct GgufTensorName {
    std::string name;      // llama.cpp's
    bool permute = false;  // LLaMA's q/k: HF's half-split rows ↔ interleaved pairs
    int64_t heads = 0;
};

// nullopt for a weight that has no GGUF counterpart.
std::optional<GgufTensorName> gguf_tensor_name(const std::string& hf_name, const ModelConfig& c);

// The GGUF file a model path stands for: the path itself when it is a .gguf file, or the one .gguf
// in a folder without config.json (a Tunebench GGUF export); nullopt otherwise. FileError when the
// folder holds several.
std::optional<std::filesystem::path> gguf_model_file(const std::filesystem::path& path);

// The architecture its metadata describes (llama, qwen2, chatglm); FileError naming the missing
// key, UnsupportedError for other architectures.
ModelConfig gguf_model_config(const io::GgufReader& reader, const std::filesystem::path& file);

}  // namespace tb
