// A typed view of tensor bytes inside a mapped file (safetensors or torch .bin), without torch.
// dtype uses safetensors' names ("F16", "BF16", "F32", ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tb::io {

struct TensorView {
    std::string dtype;           // safetensors dtype name
    std::vector<int64_t> shape;  // row-major
    const uint8_t* data = nullptr;
    size_t nbytes = 0;

    int64_t numel() const {
        int64_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
};

// Bytes per element for a safetensors dtype name; 0 for unknown or sub-byte types.
size_t dtype_size(const std::string& dtype);
bool is_known_dtype(const std::string& dtype);

}  // namespace tb::io
