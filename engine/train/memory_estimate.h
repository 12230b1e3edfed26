// "Will it fit?" before a run starts: memory of the base weights (quantized where QLoRA applies),
// the trainable parameters with their gradients and AdamW moments, and activations for one
// micro-batch at cutoff_len, from config.json alone (nothing is loaded). Rough by design: a
// planning number, compared with the memory the device has free. Torch-free header.
#pragma once

#include <cstdint>
#include <string>

#include "train/training_args.h"

namespace tb {

struct MemoryEstimate {
    int64_t weight_bytes = 0;
    int64_t trainable_params = 0;
    int64_t optimizer_bytes = 0;   // trainable: fp32 copy + gradient + two AdamW moments
    int64_t activation_bytes = 0;  // one micro-batch of per_device_train_batch_size × cutoff_len
    int64_t attention_bytes = 0;   // of which attention's cutoff_len² part (scores or masks)
    int64_t total_bytes = 0;
    int64_t available_bytes = 0;   // free device memory (CUDA) or MemAvailable (CPU); 0 if unknown
    bool fits = true;
    std::string device;
    std::string advice;            // what to change when it does not fit
};

MemoryEstimate estimate_training_memory(const TrainingArgs& args);

// LoRA parameters for `targets` ("all" or a comma list of module names) on a model's config:
// r × (in + out) per adapted linear. ChatGLM r=8 query_key_value → 1,949,696 (MODELS.md §5.2).
int64_t lora_parameter_count(const std::string& model_dir, const std::string& targets, int64_t rank);

}  // namespace tb
