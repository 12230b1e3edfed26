// A Hugging Face model folder's weights, whatever their format: model.safetensors, sharded
// *.safetensors with model.safetensors.index.json, pytorch_model.bin, or sharded .bin with
// pytorch_model.bin.index.json. Resolves each tensor name through the index. No torch here.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/tensor_view.h"

namespace tb::io {

class SafetensorsReader;
class TorchBinReader;

class Checkpoint {
public:
    // FileError naming the folder and the files looked for when no weights are found.
    explicit Checkpoint(const std::filesystem::path& folder);
    ~Checkpoint();

    const std::vector<std::string>& names() const { return names_; }
    bool has(const std::string& name) const { return where_.count(name) != 0; }
    const TensorView& view(const std::string& name) const;
    std::filesystem::path file_of(const std::string& name) const;
    // Where the tensor's bytes start in file_of(name), for readers that bypass the mapping.
    uint64_t offset_of(const std::string& name) const;
    std::string format() const { return format_; }  // "safetensors" | "bin"

private:
    struct File;
    std::vector<std::unique_ptr<File>> files_;
    std::map<std::string, File*> where_;
    std::vector<std::string> names_;
    std::string format_;
};

}  // namespace tb::io
