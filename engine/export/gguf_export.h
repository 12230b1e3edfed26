// `tunebench-cli export … export_format=gguf`: the merged model (base + adapters, merged in fp32)
// as one GGUF file for llama.cpp and Ollama, its tensors in export_gguf_type (F32, F16, BF16,
// Q8_0, Q4_0; norms, biases and 1-D tensors F32; rows that are not whole blocks F16, as
// convert_hf_to_gguf.py does; or Q4_K_M, the per-tensor mixture llama-quantize makes), with the
// tokenizer and chat template in its metadata
// (FORMATS.md §1), and an Ollama Modelfile beside it. Architectures: `chatglm` (ChatGLM2/3),
// `llama` (SentencePiece or LLaMA-3's byte-level vocabulary) and `qwen2` (Qwen2/Qwen3 vocabularies).
#pragma once

#include <functional>
#include <string>

#include "export/merge_export.h"

namespace tb {

struct GgufExportReport {
    std::filesystem::path file;
    int tensors = 0;
    int64_t bytes = 0;
    int merged_modules = 0;
    std::string type;
};

GgufExportReport export_gguf(const ExportArgs& args, const std::function<void(const std::string&)>& status = {});

// Reads the weights back from the written file (the blocks dequantized, LLaMA's permutation
// undone) into the base model's architecture and compares its logits with base + adapters merged
// in fp32 on a few templated prompts. F32 must agree within 1e-4 × max|logit| (every greedy token
// equal), F16/BF16 within 2e-2 (≥ 95% equal); for the quantized types the tolerance is on the
// logits' relative RMS error (Q8_0 0.1, 4-bit 0.5: a small random model loses far more to 4 bits
// than a trained 6B one, and a misread file scores about 1 or more) and the greedy agreement is
// reported.
ExportCheck verify_gguf_export(const ExportArgs& args, const std::filesystem::path& file, const std::vector<std::string>& prompts);

}  // namespace tb
