// View ↔ ATen conversion and safetensors save/load of named tensors.
#include "io/tensor_io.h"

#include "core/error.h"
#include "io/safetensors.h"

namespace tb::io {

at::ScalarType scalar_type_of(const std::string& d) {
    if (d == "F32") return at::kFloat;
    if (d == "F16") return at::kHalf;
    if (d == "BF16") return at::kBFloat16;
    if (d == "F64") return at::kDouble;
    if (d == "I64") return at::kLong;
    if (d == "I32") return at::kInt;
    if (d == "I16") return at::kShort;
    if (d == "I8") return at::kChar;
    if (d == "U8") return at::kByte;
    if (d == "BOOL") return at::kBool;
    throw UnsupportedError("tensor dtype " + d + " is not supported",
                           "supported: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL");
}

std::string safetensors_dtype_of(at::ScalarType t) {
    switch (t) {
        case at::kFloat: return "F32";
        case at::kHalf: return "F16";
        case at::kBFloat16: return "BF16";
        case at::kDouble: return "F64";
        case at::kLong: return "I64";
        case at::kInt: return "I32";
        case at::kShort: return "I16";
        case at::kChar: return "I8";
        case at::kByte: return "U8";
        case at::kBool: return "BOOL";
        default: throw UnsupportedError(std::string("cannot store dtype ") + c10::toString(t));
    }
}

at::ScalarType parse_dtype_name(const std::string& n) {
    if (n == "float32" || n == "fp32" || n == "float") return at::kFloat;
    if (n == "float16" || n == "fp16" || n == "half") return at::kHalf;
    if (n == "bfloat16" || n == "bf16") return at::kBFloat16;
    throw ConfigError("dtype '" + n + "' is not supported", "use float32, float16 or bfloat16");
}

std::string dtype_name(at::ScalarType t) {
    switch (t) {
        case at::kFloat: return "float32";
        case at::kHalf: return "float16";
        case at::kBFloat16: return "bfloat16";
        default: return c10::toString(t);
    }
}

at::Tensor to_tensor(const TensorView& v, at::ScalarType dtype, const at::Device& device) {
    auto src = at::from_blob(const_cast<uint8_t*>(v.data), v.shape,
                             at::TensorOptions().dtype(scalar_type_of(v.dtype)));
    // .to() on the same dtype+device would alias the mapping; clone in that case.
    auto out = src.to(device, dtype, /*non_blocking=*/false, /*copy=*/true);
    return out;
}

void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors) {
    std::vector<at::Tensor> keep;
    std::vector<TensorToWrite> out;
    for (const auto& [name, t] : tensors) {
        auto c = t.detach().to(at::kCPU).contiguous();
        keep.push_back(c);
        out.push_back({name, safetensors_dtype_of(c.scalar_type()),
                       std::vector<int64_t>(c.sizes().begin(), c.sizes().end()), c.data_ptr(),
                       static_cast<size_t>(c.nbytes())});
    }
    write_safetensors(path, std::move(out));
}

NamedTensors load_safetensors(const std::filesystem::path& path) {
    SafetensorsReader r(path);
    NamedTensors out;
    for (const auto& n : r.names()) {
        const auto& v = r.tensor(n);
        out.emplace_back(n, to_tensor(v, scalar_type_of(v.dtype), at::kCPU));
    }
    return out;
}

}  // namespace tb::io
