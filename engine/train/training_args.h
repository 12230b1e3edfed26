// Arguments of `tunebench-cli train` with LLaMA-Factory's / HF Trainer's key names and defaults,
// read from the shared string map (YAML < key=value < --flags). No torch here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "infer/inference_args.h"

namespace tb {

struct TrainingArgs {
    // model
    std::string model_name_or_path, adapter_name_or_path, template_name;
    std::string device = "auto";
    std::string flash_attn = "auto";  // auto | fa2 | sdpa | disabled
    // data
    std::string dataset, dataset_dir = "data", eval_dataset;
    int64_t cutoff_len = 2048;
    int64_t max_samples = 0;
    double val_size = 0;
    bool train_on_prompt = false, mask_history = false, packing = false, group_by_length = false;
    bool enable_thinking = true, preserve_thinking = false;  // reasoning templates (qwen3)
    bool neat_packing = false;  // packing without attention across the packed examples (turns packing on)
    // method
    std::string finetuning_type = "lora";  // lora | adalora | freeze | full
    int64_t lora_rank = 8;
    double lora_alpha = 0;  // 0 → 2 × rank
    double lora_dropout = 0;
    std::string lora_target = "all";
    bool use_rslora = false;
    int64_t freeze_trainable_layers = 2;
    // AdaLoRA (finetuning_type adalora), PEFT's AdaLoraConfig names: rank init_r pruned to an average
    // target_r between tinit and total_step − tfinal (total_step 0: the run's steps), every deltaT steps
    int64_t init_r = 12, target_r = 8, tinit = 0, tfinal = 0, deltaT = 1, total_step = 0;
    double beta1 = 0.85, beta2 = 0.85, orth_reg_weight = 0.5;
    int quantization_bit = 0;  // 0 | 4 | 8
    bool double_quantization = true;
    // optimisation
    std::string output_dir;
    bool overwrite_output_dir = false;
    int64_t per_device_train_batch_size = 8, per_device_eval_batch_size = 8, gradient_accumulation_steps = 1;
    double learning_rate = 5e-5, num_train_epochs = 3.0;
    int64_t max_steps = -1;
    std::string lr_scheduler_type = "linear";
    double warmup_ratio = 0;
    int64_t warmup_steps = 0;
    double weight_decay = 0, adam_beta1 = 0.9, adam_beta2 = 0.999, adam_epsilon = 1e-8, max_grad_norm = 1.0;
    bool bf16 = false, fp16 = false, pure_bf16 = false;
    bool gradient_checkpointing = true;  // LLaMA-Factory: on unless disable_gradient_checkpointing
    // layer: recompute whole decoder layers (LLaMA-Factory's); mlp: recompute only the MLPs (selective:
    // the attention half keeps its activations; faster, more memory)
    std::string gradient_checkpointing_scope = "layer";
    double neftune_noise_alpha = 0;
    uint64_t seed = 42;
    int64_t logging_steps = 500, save_steps = 500, save_total_limit = 0, eval_steps = 0;
    bool plot_loss = false;
    // Loggers (HF's report_to): "none", "tensorboard" or "all" (every one Tunebench has: TensorBoard);
    // event files go to logging_dir, else HF's default <output_dir>/runs/<Mon DD_HH-MM-SS>_<host>.
    std::string report_to = "none", logging_dir;
    std::string resume_from_checkpoint;  // a checkpoint folder, or "true" for the latest in output_dir
    std::string tokenized_path;  // also write the encoded training set there (train.jsonl: input_ids, labels)
    // data parallel: processes this command starts (one per GPU; `torchrun` sets RANK/WORLD_SIZE instead)
    int64_t nproc_per_node = 1;
    int64_t ddp_timeout = 1800;  // seconds a process waits for the others in a collective (HF's default)

    // Unknown keys are returned for one warning; unsupported values (stage: dpo, deepspeed, …)
    // and bad values throw ConfigError / UnsupportedError naming the key.
    static TrainingArgs from_map(const ArgMap& map, std::vector<std::string>* unknown = nullptr);
    bool do_eval() const { return val_size > 0 || !eval_dataset.empty(); }
    bool reports_to_tensorboard() const;
    bool trains_adapter() const { return finetuning_type == "lora" || finetuning_type == "adalora"; }
    double effective_lora_alpha() const { return lora_alpha > 0 ? lora_alpha : 2.0 * lora_rank; }
    // The arguments as a LLaMA-Factory YAML file (training_args.yaml).
    std::string to_yaml() const;
};

// Every key `train` understands (for the CLI's --flags), and those of them that are true/false.
const std::vector<std::string>& training_keys();
const std::vector<std::string>& training_flag_keys();

}  // namespace tb
