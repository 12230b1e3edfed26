// One table drives parsing, the --flags list and training_args.yaml, so they cannot drift apart.
#include "train/training_args.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <set>

#include "core/arg_values.h"
#include "core/error.h"
#include "core/llamafactory_arguments.h"
#include "core/log.h"
#include "core/string_list.h"

namespace tb {
namespace {

struct Field {
    const char* key;
    std::function<void(TrainingArgs&, const std::string&)> set;
    std::function<std::string(const TrainingArgs&)> get;
    bool flag = false;  // true/false: a bare --key on the command line means true
};

std::string num(double v) {
    YAML::Emitter e;
    e << v;
    return e.c_str();
}

#define STR(k, m) Field{k, [](TrainingArgs& a, const std::string& v) { a.m = v; }, [](const TrainingArgs& a) { return a.m; }}
#define INT(k, m) Field{k, [](TrainingArgs& a, const std::string& v) { a.m = parse_int(k, v); }, [](const TrainingArgs& a) { return std::to_string(a.m); }}
#define DBL(k, m) Field{k, [](TrainingArgs& a, const std::string& v) { a.m = parse_double(k, v); }, [](const TrainingArgs& a) { return num(a.m); }}
#define BOOL(k, m) Field{k, [](TrainingArgs& a, const std::string& v) { a.m = parse_bool(k, v); }, [](const TrainingArgs& a) { return std::string(a.m ? "true" : "false"); }, true}

const std::vector<Field>& fields() {
    static const std::vector<Field> f = {
        STR("model_name_or_path", model_name_or_path), STR("adapter_name_or_path", adapter_name_or_path),
        STR("template", template_name), STR("device", device), STR("flash_attn", flash_attn),
        STR("dataset", dataset), STR("dataset_dir", dataset_dir), STR("eval_dataset", eval_dataset),
        INT("cutoff_len", cutoff_len), INT("max_samples", max_samples), DBL("val_size", val_size),
        BOOL("train_on_prompt", train_on_prompt), BOOL("mask_history", mask_history), BOOL("packing", packing), BOOL("neat_packing", neat_packing),
        BOOL("group_by_length", group_by_length), BOOL("enable_thinking", enable_thinking),
        BOOL("preserve_thinking", preserve_thinking), STR("finetuning_type", finetuning_type), INT("lora_rank", lora_rank),
        DBL("lora_alpha", lora_alpha), DBL("lora_dropout", lora_dropout), STR("lora_target", lora_target),
        BOOL("use_rslora", use_rslora), INT("freeze_trainable_layers", freeze_trainable_layers),
        INT("init_r", init_r), INT("target_r", target_r), INT("tinit", tinit), INT("tfinal", tfinal),
        INT("deltaT", deltaT), INT("total_step", total_step), DBL("beta1", beta1), DBL("beta2", beta2),
        DBL("orth_reg_weight", orth_reg_weight),
        INT("quantization_bit", quantization_bit), BOOL("double_quantization", double_quantization),
        STR("output_dir", output_dir), BOOL("overwrite_output_dir", overwrite_output_dir),
        INT("per_device_train_batch_size", per_device_train_batch_size),
        INT("per_device_eval_batch_size", per_device_eval_batch_size),
        INT("gradient_accumulation_steps", gradient_accumulation_steps), DBL("learning_rate", learning_rate),
        DBL("num_train_epochs", num_train_epochs), INT("max_steps", max_steps), STR("lr_scheduler_type", lr_scheduler_type),
        DBL("warmup_ratio", warmup_ratio), INT("warmup_steps", warmup_steps), DBL("weight_decay", weight_decay),
        DBL("adam_beta1", adam_beta1), DBL("adam_beta2", adam_beta2), DBL("adam_epsilon", adam_epsilon),
        DBL("max_grad_norm", max_grad_norm), BOOL("bf16", bf16), BOOL("fp16", fp16), BOOL("pure_bf16", pure_bf16),
        BOOL("gradient_checkpointing", gradient_checkpointing),
        STR("gradient_checkpointing_scope", gradient_checkpointing_scope), DBL("neftune_noise_alpha", neftune_noise_alpha),
        INT("seed", seed), INT("logging_steps", logging_steps), INT("save_steps", save_steps),
        INT("save_total_limit", save_total_limit), INT("eval_steps", eval_steps), BOOL("plot_loss", plot_loss),
        STR("report_to", report_to), STR("logging_dir", logging_dir),
        STR("resume_from_checkpoint", resume_from_checkpoint), STR("tokenized_path", tokenized_path),
        INT("nproc_per_node", nproc_per_node), INT("ddp_timeout", ddp_timeout),
    };
    return f;
}

// Keys LLaMA-Factory files carry that change nothing here.
const std::set<std::string>& ignored_keys() {
    static const std::set<std::string> k = {"do_train", "trust_remote_code", "overwrite_cache", "preprocessing_num_workers",
                                            "dataloader_num_workers",
                                            "save_strategy", "logging_strategy", "include_num_input_tokens_seen",
                                            "quantization_method", "upcast_layernorm", "save_only_model", "run_name"};
    return k;
}

// HF's integration names: TensorBoard is written, the others (which need their Python clients and
// accounts) are named in one warning; a name HF does not know either is refused, as HF does.
void check_report_to(const std::string& value) {
    static const std::set<std::string> others = {"azure_ml", "clearml", "codecarbon", "comet_ml", "dagshub",
                                                 "dvclive", "flyte", "mlflow", "neptune", "swanlab", "trackio", "wandb"};
    std::string ignored;
    for (const auto& item : split_comma_list(value)) {
        if (item == "none" || item == "all" || item == "tensorboard") continue;
        if (!others.count(item))
            throw ConfigError("report_to '" + item + "' is not a logger Tunebench or HF Trainer knows",
                              "use report_to: tensorboard (event files for TensorBoard) or none");
        ignored += (ignored.empty() ? "" : ", ") + item;
    }
    if (!ignored.empty())
        log::warn("report_to: Tunebench writes TensorBoard event files only; not logging to ", ignored,
                  " (report_to: tensorboard writes what HF Trainer's TensorBoard callback does)");
}

}  // namespace

bool TrainingArgs::reports_to_tensorboard() const {
    for (const auto& item : split_comma_list(report_to))
        if (item == "tensorboard" || item == "all") return true;
    return false;
}

const std::vector<std::string>& training_keys() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> k;
        for (const auto& f : fields()) k.push_back(f.key);
        for (const char* extra : {"stage", "do_eval", "disable_gradient_checkpointing", "eval_strategy",
                                  "evaluation_strategy", "quantization_type", "deepspeed", "use_dora", "pissa_init"})
            k.push_back(extra);
        return k;
    }();
    return keys;
}

const std::vector<std::string>& training_flag_keys() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> k = {"do_eval", "disable_gradient_checkpointing", "use_dora", "pissa_init"};
        for (const auto& f : fields())
            if (f.flag) k.push_back(f.key);
        return k;
    }();
    return keys;
}

TrainingArgs TrainingArgs::from_map(const ArgMap& given, std::vector<std::string>* unknown) {
    ArgMap map = given;
    apply_old_spellings(map);
    TrainingArgs a;
    for (const auto& [k, v] : map) {
        bool known = false;
        for (const auto& f : fields()) {
            if (k == f.key) {
                f.set(a, v);
                known = true;
            }
        }
        if (known || ignored_keys().count(k)) continue;
        if (k == "stage") {
            if (v != "sft") {
                throw UnsupportedError("stage '" + v + "' is not supported",
                                       "Tunebench trains supervised fine-tuning: stage: sft");
            }
        } else if (k == "do_eval" || k == "eval_strategy" || k == "evaluation_strategy") {
            // evaluation runs when there is a validation split and eval_steps
        } else if (k == "disable_gradient_checkpointing") {
            a.gradient_checkpointing = !parse_bool(k, v);
        } else if (k == "quantization_type") {
            if (v != "nf4") throw UnsupportedError("quantization_type '" + v + "' is not supported", "use nf4");
        } else if (k == "deepspeed" || k == "fsdp" || k == "fsdp_config") {
            if (!v.empty()) {
                throw UnsupportedError(k + " is not supported",
                                       "Tunebench trains on several GPUs data-parallel (nproc_per_node=N); remove the " + k + " key");
            }
        } else if (k == "use_dora" || k == "pissa_init" || k == "use_galore" || k == "use_badam" || k == "use_unsloth") {
            if (parse_bool(k, v)) throw UnsupportedError(k + " is not supported", "remove the key or set it to false");
        } else if (unknown) {
            unknown->push_back(k);
        }
    }
    if (a.model_name_or_path.empty()) throw ConfigError("model_name_or_path is not set", "name the base model folder");
    if (a.dataset.empty()) throw ConfigError("dataset is not set", "name a dataset registered in dataset_dir/dataset_info.json");
    if (a.output_dir.empty()) throw ConfigError("output_dir is not set", "name a folder for checkpoints and the adapter");
    check_choice("finetuning_type", a.finetuning_type, {"lora", "adalora", "freeze", "full"});
    check_choice("lr_scheduler_type", a.lr_scheduler_type,
                 {"linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts"});
    check_choice("flash_attn", a.flash_attn, flash_attn_choices());
    check_choice("gradient_checkpointing_scope", a.gradient_checkpointing_scope, {"layer", "mlp"});
    if (a.quantization_bit != 0 && a.quantization_bit != 4 && a.quantization_bit != 8)
        throw ConfigError("quantization_bit " + std::to_string(a.quantization_bit) + " is not supported", "use 4 or 8");
    if (a.quantization_bit && !a.trains_adapter())
        throw ConfigError("quantization_bit needs finetuning_type lora or adalora", "QLoRA trains adapters on a quantized base");
    if (a.finetuning_type == "adalora") {
        if (a.init_r <= 0) throw ConfigError("init_r should be positive, found " + std::to_string(a.init_r));
        if (a.target_r < 0 || a.target_r > a.init_r)
            throw ConfigError("target_r should be between 0 and init_r (" + std::to_string(a.init_r) + "), found " + std::to_string(a.target_r),
                              "AdaLoRA prunes each matrix from init_r ranks to an average of target_r");
        if (a.tinit < 0 || a.tfinal < 0 || a.total_step < 0)
            throw ConfigError("tinit, tfinal and total_step should be ≥ 0");
        if (a.deltaT < 1) throw ConfigError("deltaT should be ≥ 1, found " + std::to_string(a.deltaT));
        if (!(a.beta1 > 0 && a.beta1 < 1) || !(a.beta2 > 0 && a.beta2 < 1))
            throw ConfigError("beta1 and beta2 should be in (0, 1), as PEFT's AdaLoraConfig asserts");
        if (!(a.orth_reg_weight >= 0)) throw ConfigError("orth_reg_weight should be ≥ 0");
    }
    if (a.bf16 && a.fp16) throw ConfigError("bf16 and fp16 are both set", "choose one");
    if (a.pure_bf16) a.bf16 = true;
    auto positive = [](const char* key, int64_t v) {
        if (v <= 0) throw ConfigError(std::string(key) + " should be positive, found " + std::to_string(v));
    };
    positive("per_device_train_batch_size", a.per_device_train_batch_size);
    positive("per_device_eval_batch_size", a.per_device_eval_batch_size);
    positive("gradient_accumulation_steps", a.gradient_accumulation_steps);
    positive("cutoff_len", a.cutoff_len);
    positive("lora_rank", a.lora_rank);
    positive("logging_steps", a.logging_steps);
    positive("save_steps", a.save_steps);
    positive("nproc_per_node", a.nproc_per_node);
    positive("ddp_timeout", a.ddp_timeout);
    if (a.max_steps <= 0 && a.num_train_epochs <= 0)
        throw ConfigError("num_train_epochs should be positive (or set max_steps)");
    if (!(a.learning_rate > 0 && a.learning_rate <= 1e30))  // the optimizer computes in fp32
        throw ConfigError("learning_rate should be positive and at most 1e30, found " + num(a.learning_rate));
    if (a.lora_dropout < 0 || a.lora_dropout >= 1) throw ConfigError("lora_dropout should be in [0, 1)");
    if (a.val_size < 0) throw ConfigError("val_size should be a fraction in (0, 1) or a row count");
    auto in_range = [](const char* key, double v, double lo, double hi, const char* expected) {
        if (!(v >= lo && v <= hi)) throw ConfigError(std::string(key) + " should be " + expected + ", found " + num(v));
    };
    in_range("warmup_ratio", a.warmup_ratio, 0, 1, "in [0, 1]");
    in_range("weight_decay", a.weight_decay, 0, 1e9, "≥ 0");
    in_range("max_grad_norm", a.max_grad_norm, 0, 1e30, "≥ 0 (0 turns clipping off)");
    in_range("adam_beta1", a.adam_beta1, 0, 0.999999999, "in [0, 1)");
    in_range("adam_beta2", a.adam_beta2, 0, 0.999999999, "in [0, 1)");
    in_range("adam_epsilon", a.adam_epsilon, 1e-30, 1, "in (0, 1]");
    in_range("neftune_noise_alpha", a.neftune_noise_alpha, 0, 1e9, "≥ 0");
    in_range("lora_alpha", a.lora_alpha, 0, 1e9, "≥ 0 (0 = twice lora_rank)");
    if (a.warmup_steps < 0) throw ConfigError("warmup_steps should be ≥ 0, found " + std::to_string(a.warmup_steps));
    check_report_to(a.report_to);
    if (a.max_samples < 0) throw ConfigError("max_samples should be ≥ 0 (0 = all), found " + std::to_string(a.max_samples));
    return a;
}

std::string TrainingArgs::to_yaml() const {
    YAML::Emitter e;
    e << YAML::BeginMap << YAML::Key << "stage" << YAML::Value << "sft" << YAML::Key << "do_train" << YAML::Value << true;
    static const std::set<std::string> adalora_only = {"init_r", "target_r", "tinit", "tfinal", "deltaT", "total_step",
                                                       "beta1", "beta2", "orth_reg_weight"};
    for (const auto& f : fields()) {
        auto v = f.get(*this);
        if (v.empty() || (finetuning_type != "adalora" && adalora_only.count(f.key))) continue;
        e << YAML::Key << f.key << YAML::Value << v;
    }
    e << YAML::EndMap;
    return std::string(e.c_str()) + "\n";
}

}  // namespace tb
