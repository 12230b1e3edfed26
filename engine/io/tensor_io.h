// The bridge between byte views and ATen tensors: dtype names, view → tensor (copied into the
// target dtype and device, one tensor at a time), and saving named tensors as safetensors.
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "io/tensor_view.h"

namespace tb::io {

at::ScalarType scalar_type_of(const std::string& safetensors_dtype);  // UnsupportedError
std::string safetensors_dtype_of(at::ScalarType t);
// "float32" | "float16" | "bfloat16" (also "fp32", "fp16", "bf16") → ScalarType.
at::ScalarType parse_dtype_name(const std::string& name);
std::string dtype_name(at::ScalarType t);  // "float32", ...

// Copies the view into a new tensor of `dtype` on `device` (never aliases the mapped file).
at::Tensor to_tensor(const TensorView& view, at::ScalarType dtype, const at::Device& device);

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;
void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors);
NamedTensors load_safetensors(const std::filesystem::path& path);

}  // namespace tb::io
