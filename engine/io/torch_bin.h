// Reader for PyTorch's torch.save zip format (pytorch_model*.bin) holding a state dict.
// A minimal pickle machine understands exactly the opcodes torch.save emits for
// OrderedDict → _rebuild_tensor_v2(storage, ...). Tensor bytes stay in the mapped zip (torch
// writes them STORED). Not a general unpickler: any other object is rejected with a message.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/mapped_file.h"
#include "io/tensor_view.h"

namespace tb::io {

class TorchBinReader {
public:
    explicit TorchBinReader(const std::filesystem::path& path);

    const std::vector<std::string>& names() const { return names_; }
    bool has(const std::string& name) const { return tensors_.count(name) != 0; }
    const TensorView& tensor(const std::string& name) const;
    const std::filesystem::path& path() const { return file_->path(); }
    const MappedFile& file() const { return *file_; }

private:
    std::shared_ptr<MappedFile> file_;
    std::map<std::string, TensorView> tensors_;
    std::vector<std::string> names_;
};

}  // namespace tb::io
