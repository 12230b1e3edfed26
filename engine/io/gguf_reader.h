// Reads a GGUF v3 file (FORMATS.md §1) through a memory map: its metadata (scalars, and arrays
// of scalars or strings, as text) and each tensor's PyTorch-order shape, ggml type and bytes. Every offset and size is checked against the file: a truncated or damaged file is a
// FileError naming it, never a read past its end. Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tb::io {

class MappedFile;

class GgufReader {
public:
    explicit GgufReader(const std::filesystem::path& path);
    ~GgufReader();

    struct Tensor {
        std::string name;
        std::vector<int64_t> shape;  // PyTorch order ([out, in])
        uint32_t type = 0;           // ggml type
        const uint8_t* data = nullptr;
        uint64_t nbytes = 0;
    };
    const std::vector<Tensor>& tensors() const { return tensors_; }
    const Tensor* tensor(const std::string& name) const;
    // Scalars as text ("7", "1e-05", "true", the string itself); empty when absent.
    std::string value(const std::string& key) const;
    // An array's elements as text (floats to 9 digits, which read back exactly); null when absent.
    const std::vector<std::string>* array(const std::string& key) const;

private:
    std::unique_ptr<MappedFile> file_;
    std::vector<Tensor> tensors_;
    std::map<std::string, std::string> values_;
    std::map<std::string, std::vector<std::string>> arrays_;
};

}  // namespace tb::io
