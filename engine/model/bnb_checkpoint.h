// bitsandbytes' 4-bit and 8-bit checkpoints as transformers saves and loads them (FORMATS.md §7):
// 4-bit: each quantized Linear's weight as packed NF4 codes plus `weight.absmax`,
// `weight.quant_map`, the nested (double-quantization) tensors and a JSON
// `quant_state.bitsandbytes__nf4`; 8-bit (LLM.int8): the weight as int8 rows plus the module's
// `SCB` (each row's absmax) and `weight_format` (0: row-major). config.json's
// `quantization_config` says which. Tunebench's NF4 and int8 are bitsandbytes' bit for bit
// (tests/reference/test_nf4.py, test_bnb_export.py), so the codes move between the two unchanged.
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <optional>
#include <string>

#include "io/tensor_io.h"
#include "model/quantization.h"

namespace tb {

namespace io {
class Checkpoint;
}

// "nf4" or "int8" for a folder whose config.json has a bitsandbytes 4-bit (NF4) or 8-bit
// quantization_config, nullopt for an unquantized one; UnsupportedError (naming the file) for
// other quantization methods, FP4, and 8-bit checkpoints that keep fp16 weights.
std::optional<std::string> prequantized_kind(const std::filesystem::path& folder);

// The weight `key` (e.g. "model.layers.0.mlp.up_proj.weight") of a bitsandbytes 4-bit checkpoint;
// FileError naming the key when a component is missing or inconsistent.
QuantizedWeight read_bnb_4bit(const io::Checkpoint& ckpt, const std::string& key, at::ScalarType compute_dtype,
                              const at::Device& device);

// The tensors transformers writes for one 4-bit weight (`key` and `key`.*), in its order.
io::NamedTensors bnb_4bit_tensors(const std::string& key, const QuantizedWeight& q);

// config.json's quantization_config for NF4 with double quantization in `compute_dtype`, as
// BitsAndBytesConfig.to_dict() writes it; JSON text.
std::string bnb_4bit_quantization_config(at::ScalarType compute_dtype);

// The weight `key` of a bitsandbytes 8-bit checkpoint (`key` int8, the module's SCB and
// weight_format); FileError naming the tensor when one is missing or inconsistent.
QuantizedWeight read_bnb_8bit(const io::Checkpoint& ckpt, const std::string& key, at::ScalarType compute_dtype,
                              const at::Device& device);

// The tensors transformers writes for one 8-bit weight: `key`, and the module's SCB and weight_format.
io::NamedTensors bnb_8bit_tensors(const std::string& key, const QuantizedWeight& q);

// config.json's quantization_config for LLM.int8 (load_in_8bit, threshold 6.0), as
// BitsAndBytesConfig(load_in_8bit=True).to_dict() writes it; JSON text.
std::string bnb_8bit_quantization_config();

}  // namespace tb
