// safetensors reader (mmap, validates every byte range) and writer ({"format":"pt"} metadata,
// header padded to 8, tensors ordered as the reference Rust writer orders them). No torch here.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/mapped_file.h"
#include "io/tensor_view.h"

namespace tb::io {

class SafetensorsReader {
public:
    // Maps and validates the file; FileError naming the file and the defect otherwise.
    explicit SafetensorsReader(const std::filesystem::path& path);

    const std::vector<std::string>& names() const { return names_; }  // file order
    bool has(const std::string& name) const { return tensors_.count(name) != 0; }
    const TensorView& tensor(const std::string& name) const;
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    const std::filesystem::path& path() const { return file_->path(); }
    const MappedFile& file() const { return *file_; }

private:
    std::shared_ptr<MappedFile> file_;
    std::map<std::string, TensorView> tensors_;
    std::vector<std::string> names_;
    std::map<std::string, std::string> metadata_;
};

struct TensorToWrite {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;
    const void* data = nullptr;
    size_t nbytes = 0;
};

// Serialised bytes of a safetensors file (header + data).
std::string safetensors_bytes(std::vector<TensorToWrite> tensors,
                              const std::map<std::string, std::string>& metadata = {{"format",
                                                                                      "pt"}});
// Writes atomically (temporary name + rename).
void write_safetensors(const std::filesystem::path& path, std::vector<TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace tb::io
