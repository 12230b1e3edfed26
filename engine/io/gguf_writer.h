// GGUF v3 files as llama.cpp loads them (FORMATS.md §1): metadata with the exact value types its
// loader checks, tensor infos with the PyTorch shape reversed (ne[0] innermost), tensor data in
// info order, each aligned to 32 bytes and padded after the last one too. Written to a temporary
// name and renamed into place; tensor bytes are produced one tensor at a time while writing.
// Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace tb::io {

class GgufWriter {
public:
    // Metadata (a key may be set once; ConfigError naming it otherwise).
    void add_u32(const std::string& key, uint32_t value);
    void add_i32(const std::string& key, int32_t value);
    void add_f32(const std::string& key, float value);
    void add_bool(const std::string& key, bool value);
    void add_string(const std::string& key, const std::string& value);
    void add_strings(const std::string& key, const std::vector<std::string>& values);
    void add_f32s(const std::string& key, const std::vector<float>& values);
    void add_i32s(const std::string& key, const std::vector<int32_t>& values);

    // A tensor of `shape` (PyTorch order, e.g. [out, in]) stored as ggml type `type` in `nbytes`
    // bytes; `bytes` is called once, while the file is written, and must return exactly nbytes.
    void add_tensor(const std::string& name, const std::vector<int64_t>& shape, uint32_t type, uint64_t nbytes,
                    std::function<std::vector<uint8_t>()> bytes);

    void write(const std::filesystem::path& path) const;

    static constexpr uint64_t kAlignment = 32;  // GGUF's default (general.alignment absent)

private:
    struct Tensor {
        std::string name;
        std::vector<int64_t> shape;
        uint32_t type;
        uint64_t nbytes;
        std::function<std::vector<uint8_t>()> bytes;
    };
    void add_kv(const std::string& key, uint32_t type, std::string encoded);
    std::vector<std::string> keys_;
    std::string kv_bytes_;  // the encoded key/value pairs, in order
    std::vector<Tensor> tensors_;
};

}  // namespace tb::io
