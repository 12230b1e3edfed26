// Writes a model's weights as transformers' save_pretrained does: shards of at most
// max_shard_bytes (10^9 × export_size), named model-0000i-of-0000n.safetensors (or
// pytorch_model-….bin for the legacy format) with an index.json, or one file when they fit.
#pragma once

#include <filesystem>

#include "io/tensor_io.h"

namespace tb::io {

struct ShardReport {
    int shards = 0;
    int64_t total_bytes = 0;
};

ShardReport save_sharded(const std::filesystem::path& folder, const NamedTensors& tensors, int64_t max_shard_bytes,
                         bool legacy_bin = false);

// torch.save-compatible zip pickle of a {name: tensor} dict (what torch.load reads).
void save_torch_bin(const std::filesystem::path& path, const NamedTensors& tensors);

}  // namespace tb::io
