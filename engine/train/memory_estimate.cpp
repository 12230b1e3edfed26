// Activation model: per layer about 34·b·s·h bytes in 16-bit (Korthikanti et al., "Reducing
// Activation Recomputation", with the s² attention term gone under fused attention), doubled in
// fp32; with gradient checkpointing only each layer's input is kept, plus one layer recomputed.
// Logits: the loss takes them in chunks of at most 2^26 (kernels/linear_cross_entropy.h): one
// chunk's fp32 logits, their fp32 softmax and its model-dtype gradient at a time.
// Attention's s² term, measured on the CPU (LibTorch 2.11, demo model, b = 2, s = 12,500, peak
// RSS): the eager path (flash_attn: disabled) keeps fp32 probabilities b·heads·s² per kept layer
// plus about two such tensors in flight (19.6 GiB measured without and 15.1 with gradient
// checkpointing; modelled (layers + 2.25) and (1 + 2.25) × 4.66 GiB); fused SDPA is O(s) without
// a mask and keeps one b·s² mask per kept layer with padding (bool on the CPU, the model dtype on
// CUDA; 1.5 GB measured for a padded pair).
#include "train/memory_estimate.h"

#include <algorithm>
#include <map>

#include "core/device_memory.h"
#include "core/error.h"
#include "core/string_list.h"
#include "model/arch/weight_layout.h"
#include "model/model_config.h"

namespace tb {
namespace {

// The MLP's share of a layer's kept activations (gradient_checkpointing_scope: mlp recomputes it):
// its input, norm output, gate|up (2I) and silu·up (I) against the attention half's input, norm
// output, q|k|v, attention output and context. H100, ChatGLM2-6B shape, 4 × 1024 LoRA, 2026-11-26:
// 16.8 GiB peak with the MLPs recomputed, 13.3 with whole layers, 22.4 with none: 0.65.
constexpr double kMlpActivationShare = 0.65;

struct LinearShape {
    std::string name;
    int64_t in, out;
};

// A layer's linears by LoRA target name, from the family's weight table
std::vector<LinearShape> layer_linears(const ModelConfig& c) {
    std::vector<LinearShape> out;
    for (const auto& w : weight_layout(c).layer)
        if (w.linear()) out.push_back({w.target_name(), w.shape[1], w.shape[0]});
    return out;
}

bool targeted(const std::string& name, const std::string& targets) {
    if (targets.empty() || targets == "all") return true;
    for (const auto& t : split_comma_list(targets))
        if (t == name) return true;
    return false;
}

}  // namespace

int64_t lora_parameter_count(const std::string& model_dir, const std::string& targets, int64_t rank) {
    const auto c = ModelConfig::from_folder(model_dir);
    int64_t n = 0;
    for (const auto& l : layer_linears(c))
        if (targeted(l.name, targets)) n += rank * (l.in + l.out);
    return n * c.num_hidden_layers;
}

MemoryEstimate estimate_training_memory(const TrainingArgs& a) {
    const auto c = ModelConfig::from_folder(a.model_name_or_path);
    MemoryEstimate e;
    e.device = a.device == "auto" ? (device_free_memory("cuda") > 0 ? "cuda" : "cpu") : a.device;
    const bool cuda = e.device.rfind("cuda", 0) == 0;
    const double bytes = a.bf16 || a.fp16 ? 2.0 : 4.0;  // model dtype of the run
    int64_t linear_params = 0;
    for (const auto& l : layer_linears(c)) linear_params += l.in * l.out;
    linear_params *= c.num_hidden_layers;
    const int64_t other_params = c.parameter_count() - linear_params;
    double linear_bytes = linear_params * bytes;
    if (a.quantization_bit == 4) linear_bytes = linear_params * (0.5 + (a.double_quantization ? 1.0 + 4.0 / 256 : 4.0) / 64);
    if (a.quantization_bit == 8) linear_bytes = linear_params * (1.0 + 4.0 / c.hidden_size);
    e.weight_bytes = static_cast<int64_t>(linear_bytes + other_params * bytes);

    if (a.trains_adapter()) {  // AdaLoRA: rank init_r (its E adds init_r per matrix, left out)
        e.trainable_params = lora_parameter_count(a.model_name_or_path, a.lora_target,
                                                  a.finetuning_type == "adalora" ? a.init_r : a.lora_rank);
    } else if (a.finetuning_type == "full") {
        e.trainable_params = c.parameter_count();
    } else {
        const int64_t layers = std::min<int64_t>(c.num_hidden_layers, std::abs(a.freeze_trainable_layers));
        e.trainable_params = layers * (linear_params / c.num_hidden_layers + 2 * c.hidden_size);
    }
    e.optimizer_bytes = e.trainable_params * 16;  // fp32 master/grad + exp_avg + exp_avg_sq
    if (a.finetuning_type == "full" || a.finetuning_type == "freeze") e.optimizer_bytes -= static_cast<int64_t>(e.trainable_params * 4);

    const double tokens = static_cast<double>(a.per_device_train_batch_size) * a.cutoff_len;
    const bool selective = a.gradient_checkpointing_scope == "mlp";
    // bytes kept per token and hidden unit per layer in 16-bit units: the CPU's ATen references keep
    // fp32 copies (34); on CUDA the training kernels keep their inputs only (H100, ChatGLM2-6B shape,
    // 4 × 1024 LoRA without checkpointing, 2026-11-26: 22.4 GiB peak, ~24 per layer; 26 with margin)
    const double layer_act = (cuda ? 26.0 : 34.0) * tokens * c.hidden_size * (bytes / 2.0);
    const double layer_input = tokens * c.hidden_size * bytes;  // what a checkpointed piece keeps
    double kept = c.num_hidden_layers * layer_act;
    if (a.gradient_checkpointing && selective) {  // the attention halves stay; one MLP is live at a time
        kept = c.num_hidden_layers * (layer_act * (1.0 - kMlpActivationShare) + layer_input) + layer_act * kMlpActivationShare;
    } else if (a.gradient_checkpointing) {
        kept = c.num_hidden_layers * layer_input + layer_act;
    }
    const double logits = std::min(tokens * c.vocab_size, double(int64_t{1} << 26)) * (bytes + 8.0);
    const double s2 = static_cast<double>(a.per_device_train_batch_size) * a.cutoff_len * a.cutoff_len;
    const double kept_layers = a.gradient_checkpointing && !selective ? 1.0 : static_cast<double>(c.num_hidden_layers);
    const double mask_bytes = a.per_device_train_batch_size > 1 ? (kept_layers + 1) * s2 * (cuda ? bytes : 1.0) : 0.0;
    e.attention_bytes = static_cast<int64_t>(a.flash_attn == "disabled" ? (kept_layers + 2.25) * s2 * c.num_attention_heads * 4.0
                                                                        : mask_bytes);
    e.activation_bytes = static_cast<int64_t>(kept + logits) + e.attention_bytes;
    e.total_bytes = e.weight_bytes + e.optimizer_bytes + e.activation_bytes;
    e.total_bytes += cuda ? int64_t{1} << 30 : int64_t{1} << 29;  // CUDA context and allocator slack; LibTorch on the CPU
    e.available_bytes = device_capacity(e.device).free;
    e.fits = e.available_bytes == 0 || e.total_bytes <= e.available_bytes;
    if (!e.fits) {
        if (a.flash_attn == "disabled" && e.attention_bytes > e.total_bytes / 2)
            e.advice = "attention's cutoff_len² scores dominate: set flash_attn auto (fused attention), or lower cutoff_len";
        else if (!a.trains_adapter()) e.advice = "use finetuning_type lora";
        else if (!a.quantization_bit) e.advice = "use QLoRA (quantization_bit 4)";
        else if (!a.gradient_checkpointing) e.advice = "turn gradient checkpointing on";
        else if (selective) e.advice = "set gradient_checkpointing_scope: layer (recompute whole layers)";
        else e.advice = "lower per_device_train_batch_size (raise gradient_accumulation_steps) or cutoff_len";
    }
    return e;
}

}  // namespace tb
