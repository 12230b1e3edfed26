// bitsandbytes' 4-bit checkpoints as transformers saves and loads them (FORMATS.md §7): each
// quantized Linear's weight as packed NF4 codes plus `weight.absmax`, `weight.quant_map`, the
// nested (double-quantization) tensors and a JSON `quant_state.bitsandbytes__nf4`; config.json's
// `quantization_config` says so. Tunebench's NF4 is bitsandbytes' bit for bit
// (tests/reference/test_nf4.py), so the codes move between the two unchanged.
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

// "nf4" for a folder whose config.json has a bitsandbytes 4-bit quantization_config, nullopt for
// an unquantized one; UnsupportedError (naming the file) for other quantization methods and for
// bitsandbytes 8-bit or FP4.
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

}  // namespace tb
