// `tunebench-cli export … export_format=gguf`: the merged model (base + adapters, merged in fp32)
// as one GGUF file for llama.cpp and Ollama, its tensors in export_gguf_type (F32, F16, BF16,
// Q8_0, Q4_0; norms, biases and 1-D tensors F32; rows that are not whole blocks F16, as
// convert_hf_to_gguf.py does; or Q4_K_M, the per-tensor mixture llama-quantize makes), with the
// tokenizer and chat template in its metadata
// (FORMATS.md §1). Built so far: ChatGLM2/3 (`chatglm`) and `llama` with a SentencePiece tokenizer.
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

}  // namespace tb
