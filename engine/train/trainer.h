// Supervised fine-tuning (LoRA, QLoRA, freeze, full) with HF Trainer's loop semantics and
// LLaMA-Factory's outputs. Torch-free header: the CLI and the GUI worker call run_training.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "train/training_args.h"

namespace tb {

struct TrainProgress {
    std::string phase;  // loading | preparing | training | evaluating | saving | done
    std::string message;
    int64_t step = 0, total_steps = 0;
    double epoch = 0;
    double loss = -1, eval_loss = -1, learning_rate = 0, grad_norm = -1;  // -1: not in this event
    double tokens_per_second = 0, elapsed_s = 0, eta_s = 0;
    int64_t memory_bytes = 0;  // device memory in use (CUDA) or resident memory (CPU)
    bool is_log = false;       // a logging step: a point for the loss chart
};

// Set from any thread; the trainer checks it between micro-batches.
enum class TrainRequest : int { Run = 0, StopAndSave = 1, Cancel = 2 };

struct TrainResult {
    int64_t global_step = 0;
    double train_loss = 0;  // mean of the step losses of this run
    int64_t trainable_params = 0, all_params = 0;
    bool stopped_early = false;
    std::string output_dir;
};

// Throws ConfigError / FileError / UnsupportedError on bad input, CancelledError on Cancel,
// and tb::Error when the loss becomes NaN/Inf (the last checkpoint is left intact).
TrainResult run_training(const TrainingArgs& args, const std::function<void(const TrainProgress&)>& on_progress = {},
                         std::atomic<int>* request = nullptr);

}  // namespace tb
