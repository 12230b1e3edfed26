// `tunebench-cli bench`: how fast a model folder (optionally with an adapter) loads, answers and
// decodes on this machine — load time, time to first token for long prompts, decode tokens/s at
// several batch sizes (every row decoding at once over one DecodeContext), peak device memory.
// Prompts are fixed synthetic ids, so no tokenizer is needed. Torch-free header.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "infer/inference_args.h"

namespace tb {

struct BenchOptions {
    InferenceArgs inference;                     // model, adapter, dtype, device, quantization
    std::vector<int64_t> ttft_prompts = {512, 2048};
    std::vector<int64_t> batch_sizes = {1, 8, 64};
    int64_t decode_prompt = 256;                 // prompt tokens of each decoding row
    int64_t new_tokens = 128;                    // tokens each row decodes
    bool cuda_graphs = true;
};

struct BenchReport {
    std::string device, dtype, model;
    std::string variant;  // bench --compare: what was measured ("base", "merged, NF4", a file)
    // How the variant ran when that is not what its name says: a GGUF file's quantized weights are
    // dequantized at load, so its speed and memory are the dense model's ("" otherwise).
    std::string note;
    double load_s = 0;
    int64_t weights_bytes = 0;  // device memory after loading
    struct Ttft { int64_t prompt = 0; double seconds = 0; };
    std::vector<Ttft> ttft;
    struct Decode {
        int64_t batch = 0;
        double tokens_per_s = 0, step_ms = 0;
        int64_t kv_bytes = 0, peak_bytes = 0;  // the static cache; device peak during the run
        bool cuda_graph = false;
    };
    std::vector<Decode> decode;
    int64_t peak_bytes = 0;
};

BenchReport run_bench(const BenchOptions& options);
std::string bench_table(const BenchReport& report);
std::string bench_json(const BenchReport& report);  // one line

// `bench --compare`, seed 004's table built in: the base model, base + adapter (unmerged), merged,
// merged and quantized to int8 and to NF4 here (as QLoRA loads them), then each of `more` (a GGUF
// or a 4-bit export, loaded as chat loads it) — one after another, each alone in memory, each
// measured as run_bench measures. Without an adapter: base, int8, NF4, then `more`.
std::vector<BenchReport> run_bench_compare(const BenchOptions& options, const std::vector<std::string>& more);
std::string bench_compare_table(const std::vector<BenchReport>& reports);  // one row per variant, then notes
// BenchReport::note for a --compare_with model run in `dtype` ("bfloat16", …): what its GGUF weights
// were and that they ran dequantized; "" for any other model.
std::string dequantized_note(const std::filesystem::path& model, const std::string& dtype);

}  // namespace tb
