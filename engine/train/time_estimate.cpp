#include "train/time_estimate.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "data/dataset_registry.h"
#include "data/sft_encoding.h"
#include "model/decoder.h"
#include "model/model_config.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace tb {
namespace {

// Share of a step the big matmuls get (the rest: norms, RoPE, softmax, the optimizer). Re-fitted
// after the training kernels (H100, 2026-11-26, ChatGLM2-6B shape, batch 4 × 1024, bf16, LoRA qkv):
// 15,544 tok/s with checkpointing and 22,747 without are 0.81 and 0.79 of a 700 TFLOP/s matmul
// bench over the counted FLOPs (0.6 before them: 10.2k tok/s).
constexpr double kMatmulShare = 0.8;
// QLoRA dequantizes every weight in forward and again in backward with one kernel each
// (same run: 14,806 and 21,545 tok/s, 0.95× LoRA; 0.44× with the ATen dequantization).
constexpr double kQuantizedSlowdown = 1.05;
// Fixed cost per layer and micro-batch (kernel launches, autograd bookkeeping), which dominates
// small models: stories260K (5 layers, batch 8) trains at ~40 ms per step on an H100 and ~90 ms
// on 16 CPU cores; the demo (2 layers) at ~16 ms per step on 2 CPU cores (2026-11-22). On CUDA it
// overlaps the GPU's work, on CPU it adds to it.
constexpr double kLayerOverheadCuda = 0.007, kLayerOverheadCpu = 0.010;

double measure_matmul_flops(const at::Device& device, at::ScalarType dtype, int64_t m, int64_t k, int64_t n) {
    at::NoGradGuard no_grad;
    auto opts = at::TensorOptions().device(device).dtype(dtype);
    auto a = at::randn({m, k}, opts), b = at::randn({k, n}, opts);
    auto sync = [&] {
        if (device.is_cuda()) at::mm(a.narrow(0, 0, 1), b.narrow(1, 0, 1)).item<float>();  // waits for the stream
    };
    at::mm(a, b);  // warm-up
    sync();
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    int64_t runs = 0;
    double elapsed = 0;
    do {
        for (int i = 0; i < 4; ++i) at::mm(a, b);
        runs += 4;
        sync();
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < 0.3);
    return 2.0 * m * k * n * runs / elapsed;
}

}  // namespace

TimeEstimate estimate_training_time(const TrainingArgs& a) {
    const auto config = ModelConfig::from_folder(a.model_name_or_path);
    const auto tok = load_tokenizer(a.model_name_or_path, &config);
    std::string templ = a.template_name.empty() ? detect_template(a.model_name_or_path, config, *tok) : a.template_name;
    if (templ.empty()) templ = "empty";
    const auto& tmpl = ChatTemplate::get(templ);

    auto examples = data::load_datasets(a.dataset_dir, a.dataset, a.max_samples, nullptr);
    TimeEstimate e;
    int64_t n = static_cast<int64_t>(examples.size());
    if (a.eval_dataset.empty() && a.val_size > 0)
        n -= a.val_size >= 1 ? static_cast<int64_t>(a.val_size) : static_cast<int64_t>(std::ceil(a.val_size * n));
    e.examples = std::max<int64_t>(n, 0);
    // tokens per example from up to 2000 of them (the rest are alike)
    data::SftEncodeOptions eo{a.cutoff_len, a.train_on_prompt, a.mask_history, {a.enable_thinking, a.preserve_thinking}};
    const int64_t sample = std::min<int64_t>(static_cast<int64_t>(examples.size()), 2000);
    double total_len = 0;
    for (int64_t i = 0; i < sample; ++i) {
        const auto idx = static_cast<size_t>(i * static_cast<int64_t>(examples.size()) / std::max<int64_t>(sample, 1));
        total_len += static_cast<double>(data::encode_supervised(examples[idx], tmpl, *tok, eo).input_ids.size());
    }
    const double mean_len = sample ? total_len / sample : 0;
    const int64_t bs = a.per_device_train_batch_size, accum = a.gradient_accumulation_steps;
    int64_t rows = e.examples;
    double row_len = mean_len;
    if (a.packing) {  // packed rows are about cutoff_len long
        rows = static_cast<int64_t>(std::ceil(e.examples * mean_len / a.cutoff_len));
        row_len = a.cutoff_len;
    } else {
        row_len = std::min<double>(a.cutoff_len, std::ceil(mean_len * 1.15 / 8) * 8);  // padding to the batch's longest, ×8
    }
    const int64_t batches = (rows + bs - 1) / bs;
    const int64_t steps_per_epoch = std::max<int64_t>(1, (batches + accum - 1) / accum);
    e.steps = a.max_steps > 0 ? a.max_steps : static_cast<int64_t>(std::ceil(a.num_train_epochs * steps_per_epoch));
    e.tokens = static_cast<double>(e.steps) * std::min<int64_t>(accum, batches) * bs * row_len;

    // matmul FLOPs per token: 2 per weight forward (the input embedding is a lookup) plus attention
    const double weights = static_cast<double>(config.parameter_count() - config.vocab_size * config.hidden_size);
    const double forward = 2 * weights + 2.0 * config.num_hidden_layers * row_len * config.q_size();
    const double passes = a.finetuning_type == "full" ? 3.0 : 2.0;
    // checkpointing runs the forward again: all of it, or (scope mlp) the MLPs' share of the weights
    const double mlp_weights = 3.0 * config.hidden_size * config.intermediate_size * config.num_hidden_layers;
    const double recomputed = !a.gradient_checkpointing ? 0.0
                              : a.gradient_checkpointing_scope == "mlp" ? 2 * mlp_weights
                                                                         : forward;
    e.flops_per_token = forward * passes + recomputed;

    const auto device = resolve_device(a.device);
    e.device = device.str();
    const auto dtype = a.bf16 ? at::kBFloat16 : a.fp16 ? at::kHalf : at::kFloat;
    // throughput, not per-call cost (that is the overhead term): at least 1024 on every side
    const int64_t m = std::clamp<int64_t>(bs * static_cast<int64_t>(row_len), 1024, 4096);
    e.device_flops = measure_matmul_flops(device, dtype, m, std::max<int64_t>(config.hidden_size, 1024),
                                          std::max<int64_t>(config.intermediate_size, 1024));
    double compute = e.tokens * e.flops_per_token / (e.device_flops * kMatmulShare);
    if (a.quantization_bit > 0) compute *= kQuantizedSlowdown;
    const double micro_batches = static_cast<double>(e.steps) * std::min<int64_t>(accum, batches);
    const double overhead = micro_batches * config.num_hidden_layers * (device.is_cuda() ? kLayerOverheadCuda : kLayerOverheadCpu);
    e.seconds = device.is_cuda() ? std::max(compute, overhead) : compute + overhead;
    return e;
}

}  // namespace tb
