// The one translation unit that needs LibTorch's serializer (torch::pickle_save writes the zip
// format torch.load reads); kept apart because the header is slow to compile.
#include <torch/serialize.h>

#include "io/atomic_file.h"
#include "io/sharded_writer.h"

namespace tb::io {

void save_torch_bin(const std::filesystem::path& path, const NamedTensors& tensors) {
    c10::Dict<std::string, at::Tensor> dict;
    for (const auto& [name, t] : tensors) dict.insert(name, t.detach().to(at::kCPU).contiguous());
    const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
    write_atomically(path, [&](std::ostream& os) { os.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

}  // namespace tb::io
