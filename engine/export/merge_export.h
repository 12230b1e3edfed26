// `tunebench-cli export`: merge LoRA adapters into their base and write a Hugging Face folder
// (sharded safetensors + index, config.json, generation_config.json, tokenizer and remote-code
// files) that this engine and transformers both load. LLaMA-Factory's export keys.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "infer/inference_args.h"

namespace tb {

struct ExportArgs {
    std::string model_name_or_path, adapter_name_or_path, export_dir;
    double export_size = 1;             // GB (10^9 bytes) per shard
    std::string export_device = "cpu";  // cpu | cuda | auto
    std::string export_dtype = "auto";  // auto (config torch_dtype) | float32 | float16 | bfloat16
    bool export_legacy_format = false;  // pytorch_model.bin instead of safetensors
    int quantization_bit = 0;           // set → refused: merge into the unquantized base
    std::string export_format = "safetensors";  // safetensors (a Hugging Face folder) | gguf (export/gguf_export.h)
    std::string export_gguf_type = "F16";       // gguf: F32 | F16 | BF16 | Q8_0 | Q4_0 | Q4_K_M
    // 4: the decoder-layer linears as bitsandbytes NF4 (double quantization) for transformers
    // (safetensors), or Q4_K_M (gguf, unless export_gguf_type is given); 8: bitsandbytes LLM.int8
    // rows (safetensors) or Q8_0 (gguf)
    int export_quantization_bit = 0;

    static ExportArgs from_map(const ArgMap& map, std::vector<std::string>* unknown = nullptr);
};

struct ExportReport {
    int merged_modules = 0;
    int shards = 0;
    int64_t total_bytes = 0;
    std::string dtype;
};

// Writes into a hidden sibling folder and renames it into place; an earlier export in export_dir
// is replaced only when it carries Tunebench's marker file (check_export_dir).
ExportReport export_merged_model(const ExportArgs& args, const std::function<void(const std::string&)>& status = {});
// UnsupportedError when `base` is itself quantized (a bitsandbytes 4-bit checkpoint).
void refuse_quantized_base(const std::filesystem::path& base);
void check_export_dir(const std::filesystem::path& export_dir, const std::filesystem::path& base,
                      const std::vector<std::string>& adapter_dirs);
// Writes an export into a hidden sibling of `out` (`fill` writes its files there), then swaps it
// into place; an earlier Tunebench export there is removed only after the swap.
void write_export_folder(const std::filesystem::path& out, const std::function<void(const std::filesystem::path& tmp)>& fill);

// The dtype an export is made in: export_dtype, but a 4-bit export's "auto" is the model's own
// torch_dtype (not the CPU's float32).
std::string export_dtype(const ExportArgs& args);

// Reloads the export and compares its logits with base + adapters (applied unmerged) on a few
// prompts rendered with the model's template. Tolerance: 1e-4 × max|logit| in fp32; 5e-2 in
// fp16/bf16, where merging rounds W + B·A once while the unmerged path rounds differently. A
// 4-bit export is compared with base + adapters merged and quantized to NF4 here (the same codes,
// so the same tolerances); the relative RMS and greedy agreement are reported too.
struct ExportCheck {
    double max_abs_diff = 0, logit_scale = 0, tolerance = 0;
    int prompts = 0;
    double greedy_agreement = 1;  // share of positions whose most likely next token is the same
    double relative_rms = 0;      // RMS of the logit difference over the RMS of the reference logits
    bool ok = false;
};
ExportCheck verify_export(const ExportArgs& args, const std::vector<std::string>& prompts);

}  // namespace tb
