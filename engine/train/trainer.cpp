// The training loop. Semantics follow HF Trainer (optimizer steps of gradient_accumulation_steps
// micro-batches, loss normalised by the label tokens of the whole step, lr from LambdaLR,
// grad_norm logged before clipping) and LLaMA-Factory's outputs (trainer_log.jsonl, plots).
// Checkpoints carry everything needed to continue bit for bit: trainable weights, AdamW moments,
// scheduler position, RNG states, data position and the running log sums.
#include "train/trainer.h"

#include <c10/util/Exception.h>

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "adapters/adalora_allocator.h"
#include "adapters/lora_adapter.h"
#include "core/device_memory.h"
#include "core/error.h"
#include "core/log.h"
#include "core/string_list.h"
#include "data/dataset_registry.h"
#include "data/sft_encoding.h"
#include "io/path_compare.h"
#include "io/atomic_file.h"
#include "io/json_text.h"
#include "io/tensor_io.h"
#include "model/attention.h"
#include "model/decoder.h"
#include "model/quantization.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "train/adamw.h"
#include "train/batching.h"
#include "train/distributed.h"
#include "train/loss_plot.h"
#include "train/lr_schedule.h"
#include "train/memory_estimate.h"
#include "train/tensorboard_events.h"

namespace tb {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const char* const kTokenizerFiles[] = {"tokenizer.model", "tokenizer.json", "tokenizer_config.json",
                                       "special_tokens_map.json", "vocab.json", "merges.txt",
                                       "added_tokens.json", "tokenization_chatglm.py"};

void copy_tokenizer_files(const fs::path& from, const fs::path& to) {
    for (const char* f : kTokenizerFiles) {
        if (fs::exists(from / f)) io::copy_file_atomically(from / f, to / f);
    }
}

std::string hms(double seconds) {
    const auto s = static_cast<int64_t>(std::max(0.0, seconds));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
    return buf;
}

std::vector<std::pair<int64_t, fs::path>> checkpoints_in(const fs::path& dir) {
    std::vector<std::pair<int64_t, fs::path>> out;
    if (!fs::is_directory(dir)) return out;
    // by hand, not std::regex: std::regex crashed when linked with the pip LibTorch (g++ 13)
    const std::string prefix = "checkpoint-";
    for (const auto& e : fs::directory_iterator(dir)) {
        const auto name = e.path().filename().string();
        const auto digits = name.substr(std::min(name.size(), prefix.size()));
        if (e.is_directory() && name.rfind(prefix, 0) == 0 && !digits.empty() && digits.size() < 12 &&
            digits.find_first_not_of("0123456789") == std::string::npos)
            out.emplace_back(std::stoll(digits), e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

class Trainer {
public:
    Trainer(const TrainingArgs& a, const std::function<void(const TrainProgress&)>& cb, std::atomic<int>* req)
        : a_(a), cb_(cb), req_(req), out_(a.output_dir) {}

    TrainResult run();

private:
    void check_output_dir();
    void clear_earlier_run();
    void load_model_and_data();
    void setup_trainable();
    void resume(const fs::path& ckpt);
    double evaluate();
    void save_checkpoint();
    void save_final(bool stopped);
    void write_trainable(const fs::path& dir);
    json trainer_state() const;
    void log_event(json entry);
    void open_tensorboard();
    void log_tensorboard(const json& entry);
    void report(TrainProgress p);
    [[noreturn]] void diverged(const std::string& what);
    void check_weights_finite();
    void track_step(const at::Tensor& step_loss, const at::Tensor& grad_norm);
    void settle();
    int request() const { return req_ ? req_->load() : 0; }
    void join_processes();
    // Data parallel: this process's share of the step summed with the others' (loss, stop requests).
    std::vector<double> sum_over_processes(std::vector<double> values);
    bool is_main() const { return world_.is_main(); }

    TrainingArgs a_;
    std::function<void(const TrainProgress&)> cb_;
    std::atomic<int>* req_;
    fs::path out_;
    at::Device device_{at::kCPU};
    std::shared_ptr<Model> model_;
    std::unique_ptr<Tokenizer> tok_;
    std::string template_name_;
    LoraConfig lora_;
    std::vector<data::EncodedExample> train_, eval_;
    std::vector<std::pair<std::string, at::Tensor>> trainable_;
    std::unique_ptr<AdamW> opt_;
    LrSchedule sched_;
    int64_t pad_id_ = 0, total_steps_ = 0, steps_per_epoch_ = 1, num_batches_ = 1;
    int64_t trainable_count_ = 0, all_count_ = 0;
    // loop position and running sums (all saved in checkpoints)
    int64_t global_step_ = 0, epoch_index_ = 0, batch_pos_ = 0, tokens_seen_ = 0;
    double loss_scale_ = 65536.0;
    int64_t growth_tracker_ = 0;
    double interval_loss_ = 0, run_loss_ = 0, elapsed_before_ = 0;
    int64_t interval_steps_ = 0, run_steps_ = 0;
    // The steps' losses and gradient norms stay on the device until a logging step, a checkpoint,
    // an evaluation or the end reads them (settle): one host sync there, not one per micro-batch.
    // first_bad_: the first step whose loss / gradient norm was not finite (-1: none yet).
    at::Tensor pending_loss_, last_grad_norm_, first_bad_;
    double grad_norm_ = 0;
    json log_history_ = json::array();
    Clock::time_point start_;
    int64_t session_start_step_ = 0, session_tokens_ = 0;
    int64_t last_saved_step_ = -1;
    // data parallel (world_.world_size > 1): every process trains rows of each global batch
    dist::World world_;
    std::unique_ptr<dist::Communicator> comm_;
    std::unique_ptr<dist::GradientSync> grad_sync_;
    int agreed_request_ = 0;  // the stop/cancel request all processes saw at the last step
    // report_to: tensorboard (main process): the events file, kept across resumes in checkpoints
    std::unique_ptr<TensorBoardEvents> tensorboard_;
    fs::path tensorboard_file_;
    // finetuning_type adalora: PEFT's RankAllocator over the adapters (and lora_.rank_pattern)
    std::unique_ptr<AdaLoraAllocator> adalora_;
    void setup_adalora();
};

void Trainer::report(TrainProgress p) {
    if (!cb_ || !is_main()) return;
    p.total_steps = total_steps_;
    p.elapsed_s = elapsed_before_ + std::chrono::duration<double>(Clock::now() - start_).count();
    const double session = std::chrono::duration<double>(Clock::now() - start_).count();
    const int64_t done = global_step_ - session_start_step_;
    if (done > 0) p.eta_s = session / done * (total_steps_ - global_step_);
    if (session > 0) p.tokens_per_second = session_tokens_ / session;
    p.memory_bytes = device_memory(device_.str()).current;
    cb_(p);
}

// Refuses an output_dir this run must not write to. Deletes nothing: overwrite_output_dir clears the
// earlier run only once the model, data and arguments are validated (clear_earlier_run).
void Trainer::check_output_dir() {
    if (fs::exists(out_) && fs::exists(a_.model_name_or_path) &&
        fs::weakly_canonical(out_) == fs::weakly_canonical(a_.model_name_or_path)) {
        throw ConfigError("output_dir " + out_.string() + " is the model folder " + a_.model_name_or_path +
                              ": training would write its adapter and tokenizer files over the model's",
                          "choose a new output_dir, e.g. saves/" + fs::path(a_.model_name_or_path).filename().string() + "-lora");
    }
    if (!a_.resume_from_checkpoint.empty()) return;
    if (a_.overwrite_output_dir) {  // clearing the folder must not delete the adapter this run starts from
        for (const auto& adapter : split_comma_list(a_.adapter_name_or_path)) {
            if (io::is_same_or_inside(adapter, out_))
                throw ConfigError("adapter_name_or_path " + adapter + " lies in output_dir " + out_.string() +
                                      ", which overwrite_output_dir would clear",
                                  "choose another output_dir for this run");
        }
        return;
    }
    auto existing = checkpoints_in(out_);
    const bool has_adapter = fs::exists(out_ / "adapter_model.safetensors") || fs::exists(out_ / "trainer_state.json");
    if (existing.empty() && !has_adapter) return;
    throw ConfigError("output_dir " + out_.string() + " already holds an earlier run" +
                          (existing.empty() ? std::string() : " (up to " + existing.back().second.filename().string() + ")"),
                      "set resume_from_checkpoint: true to continue it, overwrite_output_dir: true to start over, "
                      "or choose another output_dir");
}

void Trainer::clear_earlier_run() {
    if (!a_.overwrite_output_dir || !a_.resume_from_checkpoint.empty()) return;
    for (auto& [n, p] : checkpoints_in(out_)) io::remove_tree(p);
    for (const char* f : {"trainer_log.jsonl", "trainer_state.json", "all_results.json", "train_results.json",
                          "eval_results.json", "adapter_model.safetensors", "adapter_config.json"})
        fs::remove(out_ / f);
}

// Resolves the device and, when torchrun's variables (or nproc_per_node) make this one of several
// processes, joins the others: one GPU each (cuda:LOCAL_RANK), or CPU processes over Gloo.
void Trainer::join_processes() {
    world_ = dist::world_from_env();
    device_ = resolve_device(a_.device);
    if (device_.is_cuda() && device_.has_index()) c10::impl::getDeviceGuardImpl(at::kCUDA)->setDevice(device_);
    if (device_.is_cuda() && use_expandable_cuda_segments()) log::info("CUDA allocator: expandable segments");
    if (!world_.distributed()) return;
    if (device_.is_cuda()) {
        const auto gpus = c10::impl::getDeviceGuardImpl(at::kCUDA)->deviceCount();
        if (world_.local_rank >= gpus) {
            throw Error("training process " + std::to_string(world_.rank) + " needs GPU " + std::to_string(world_.local_rank) +
                                  " but this machine shows " + std::to_string(gpus) + " GPU(s)",
                              "set nproc_per_node to at most " + std::to_string(gpus) + " (one process per GPU), or CUDA_VISIBLE_DEVICES");
        }
        device_ = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(world_.local_rank));
    }
    report({.phase = "loading", .message = "waiting for " + std::to_string(world_.world_size) + " training processes"});
    comm_ = std::make_unique<dist::Communicator>(world_, device_, std::chrono::seconds(a_.ddp_timeout));
    if (is_main()) log::info("data parallel: ", world_.world_size, " processes over ", dist::backend_for(device_), ", ",
                             world_.world_size * a_.per_device_train_batch_size * a_.gradient_accumulation_steps,
                             " examples per optimizer step");
}

std::vector<double> Trainer::sum_over_processes(std::vector<double> values) {
    if (!comm_) return values;
    std::vector<at::Tensor> t{at::tensor(values, at::kDouble).to(device_)};
    comm_->all_reduce_sum(t);
    auto host = t[0].cpu();
    for (size_t i = 0; i < values.size(); ++i) values[i] = host[static_cast<int64_t>(i)].item<double>();
    return values;
}

void Trainer::load_model_and_data() {
    report({.phase = "loading", .message = "loading " + a_.model_name_or_path});
    const fs::path folder = a_.model_name_or_path;
    if (!fs::is_directory(folder)) {
        throw FileError("model folder " + folder.string() + " does not exist", "model_name_or_path must be a local model folder");
    }
    if ((a_.packing || a_.neat_packing) && ModelConfig::from_folder(folder).prefix_lm())
        throw ConfigError("packing is not possible with ChatGLM-6B: each example's prompt is attended both ways up to its "
                          "<sop>, which a packed row of several examples cannot express",
                          "set packing and neat_packing to false");
    {
        auto est_args = a_;
        est_args.device = device_.str();
        const auto e = estimate_training_memory(est_args);
        const double gib = 1024.0 * 1024 * 1024;
        if (is_main()) log::info("memory estimate: ", e.total_bytes / gib, " GiB (weights ", e.weight_bytes / gib, ", optimizer ",
                  e.optimizer_bytes / gib, ", activations ", e.activation_bytes / gib, ")",
                  e.available_bytes ? ", available " + std::to_string(e.available_bytes / gib).substr(0, 5) + " GiB" : "");
        // On the CPU a run past the free memory swaps the machine to a halt or is killed by the
        // kernel: refuse it before anything is loaded. A GPU run stops with a clean OOM instead.
        if (!e.fits && device_.is_cpu() && e.total_bytes > e.available_bytes * 1.2) {
            throw ConfigError("this run needs about " + std::to_string(e.total_bytes / gib).substr(0, 5) + " GiB but the machine has " +
                                  std::to_string(e.available_bytes / gib).substr(0, 5) + " GiB free: it would swap or be killed",
                              e.advice + " (tunebench-cli estimate shows the parts)");
        }
        if (!e.fits) log::warn("this run will probably not fit in memory: ", e.advice);
    }
    std::string dtype = "float32";
    if (a_.bf16) dtype = "bfloat16";
    if (a_.fp16) {
        if (device_.is_cpu()) throw ConfigError("fp16 training needs a CUDA device", "use bf16 or fp32 (the default) on CPU");
        dtype = "float16";
    }
    model_ = Model::load(folder, {.dtype = dtype,
                                  .device = device_.str(),
                                  .quantization_bit = a_.quantization_bit,
                                  .double_quantization = a_.double_quantization,
                                  .flash_attn = a_.flash_attn});
    tok_ = load_tokenizer(folder, &model_->config());
    template_name_ = a_.template_name.empty() ? detect_template(folder, model_->config(), *tok_) : a_.template_name;
    if (template_name_.empty()) template_name_ = "empty";
    const auto& tmpl = ChatTemplate::get(template_name_);
    pad_id_ = tok_->pad_id ? *tok_->pad_id : (tok_->eos_id ? *tok_->eos_id : 0);

    report({.phase = "preparing", .message = "reading dataset " + a_.dataset});
    data::DatasetLoadReport rep;
    auto examples = data::load_datasets(a_.dataset_dir, a_.dataset, a_.max_samples, &rep);
    for (const auto& w : rep.warnings) log::warn(w);
    if (rep.dropped) log::warn(rep.dropped, " conversations skipped (see the first ones above)");
    std::vector<data::Example> eval_examples;
    if (!a_.eval_dataset.empty()) {
        eval_examples = data::load_datasets(a_.dataset_dir, a_.eval_dataset, a_.max_samples, nullptr);
    } else if (a_.val_size > 0) {
        const int64_t n = static_cast<int64_t>(examples.size());
        const int64_t k = a_.val_size >= 1 ? static_cast<int64_t>(a_.val_size) : static_cast<int64_t>(std::ceil(a_.val_size * n));
        if (k >= n) throw ConfigError("val_size " + std::to_string(a_.val_size) + " leaves no training examples", "use a smaller val_size");
        std::vector<int64_t> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::mt19937_64 rng(a_.seed);
        for (int64_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
        std::vector<data::Example> tr;
        for (int64_t i = 0; i < n; ++i) (i < k ? eval_examples : tr).push_back(std::move(examples[order[i]]));
        examples = std::move(tr);
    }
    const bool packing = a_.packing || a_.neat_packing;
    const int64_t cutoff = packing ? packed_row_length(a_.cutoff_len) : a_.cutoff_len;
    data::SftEncodeOptions eo{cutoff, a_.train_on_prompt, a_.mask_history, {a_.enable_thinking, a_.preserve_thinking}};
    auto encode = [&](const std::vector<data::Example>& in, std::vector<data::EncodedExample>& out) {
        for (const auto& ex : in) {
            auto e = data::encode_supervised(ex, tmpl, *tok_, eo);
            if (e.trained_tokens() == 0) continue;  // nothing to learn (e.g. cut off entirely)
            out.push_back(std::move(e));
        }
    };
    encode(examples, train_);
    encode(eval_examples, eval_);
    if (train_.empty()) throw ConfigError("no example of '" + a_.dataset + "' has a trainable response within cutoff_len",
                                          "raise cutoff_len or check the data");
    if (packing) {
        int64_t dropped = 0;
        train_ = pack_examples(train_, cutoff, &dropped);
        if (dropped > 0) {
            log::warn("packing left out ", dropped, " example(s) longer than ", cutoff, " tokens (cutoff_len - 1)",
                      " after the template's end token (as LLaMA-Factory does); raise cutoff_len to keep them");
        }
    }
    if (!a_.tokenized_path.empty() && is_main()) {
        // the exact rows the loop trains on, for reference implementations to train on too
        std::string lines;
        for (const auto& e : train_) lines += json{{"input_ids", e.input_ids}, {"labels", e.labels}}.dump() + "\n";
        fs::create_directories(a_.tokenized_path);
        io::write_text_atomically(fs::path(a_.tokenized_path) / "train.jsonl", lines);
    }
    log::info("dataset: ", train_.size(), " training and ", eval_.size(), " evaluation examples (template ", template_name_, ")");
}

void Trainer::setup_trainable() {
    at::manual_seed(a_.seed);
    for (auto& [name, t] : model_->named_weights())
        if (t->defined()) all_count_ += t->numel();
    for (Linear* l : model_->linears())
        if (l->quant) all_count_ += l->out_features() * l->in_features();
    if (a_.finetuning_type == "adalora") {
        // earlier adapters (LoRA or AdaLoRA) are merged into the base; AdaLoRA starts fresh on top
        for (const auto& adapter : split_comma_list(a_.adapter_name_or_path)) merge_lora_adapter(*model_, adapter);
        lora_.adalora = true;
        lora_.init_r = a_.init_r;
        lora_.target_r = a_.target_r;
        lora_.tinit = a_.tinit;
        lora_.tfinal = a_.tfinal;
        lora_.deltaT = a_.deltaT;
        lora_.beta1 = a_.beta1;
        lora_.beta2 = a_.beta2;
        lora_.orth_reg_weight = a_.orth_reg_weight;
        lora_.alpha = a_.lora_alpha > 0 ? a_.lora_alpha : 8.0;  // AdaLoraConfig's lora_alpha default
        lora_.dropout = a_.lora_dropout;
        lora_.target_modules = resolve_lora_targets(*model_, a_.lora_target);
        attach_adalora(*model_, lora_, a_.seed);
        lora_.base_model_name_or_path = a_.model_name_or_path;
        auto keys = lora_state_dict(*model_);
        size_t k = 0;
        for (Linear* l : model_->linears()) {
            if (!l->lora) continue;
            for (at::Tensor* t : {&l->lora->A, &l->lora->B, &l->lora->E}) trainable_.emplace_back(keys[k++].first, *t);
        }
    } else if (a_.finetuning_type == "lora") {
        const auto adapters = split_comma_list(a_.adapter_name_or_path);
        for (size_t i = 0; i + 1 < adapters.size(); ++i) merge_lora_adapter(*model_, adapters[i]);
        if (!adapters.empty()) {
            // an AdaLoRA adapter keeps a rank per matrix (and folds E in as it loads): no LoRA config describes it
            if (LoraConfig::read(adapters.back()).adalora)
                throw UnsupportedError("adapter_name_or_path " + adapters.back() + " is an AdaLoRA adapter, which LoRA training cannot continue",
                                       "use finetuning_type adalora (the adapter is merged and a new AdaLoRA trained on top), "
                                       "or list another adapter last");
            lora_ = load_lora(*model_, adapters.back());  // continue training this adapter
            log::info("continuing to train the adapter in ", adapters.back());
        } else {
            lora_.r = a_.lora_rank;
            lora_.alpha = a_.effective_lora_alpha();
            lora_.dropout = a_.lora_dropout;
            lora_.use_rslora = a_.use_rslora;
            lora_.target_modules = resolve_lora_targets(*model_, a_.lora_target);
            attach_lora(*model_, lora_, a_.seed);
        }
        lora_.base_model_name_or_path = a_.model_name_or_path;
        for (Linear* l : model_->linears()) {
            if (!l->lora) continue;
            l->lora->A.requires_grad_(true);
            l->lora->B.requires_grad_(true);
        }
        auto keys = lora_state_dict(*model_);
        size_t k = 0;
        for (Linear* l : model_->linears()) {
            if (!l->lora) continue;
            trainable_.emplace_back(keys[k++].first, l->lora->A);
            trainable_.emplace_back(keys[k++].first, l->lora->B);
        }
    } else {
        const int64_t layers = model_->config().num_hidden_layers;
        std::set<std::string> prefixes;
        if (a_.finetuning_type == "freeze") {
            const int64_t n = a_.freeze_trainable_layers;
            for (int64_t i = 0; i < layers; ++i) {
                const bool on = n > 0 ? i >= layers - n : i < -n;
                if (on) prefixes.insert(model_->layers()[i].input_norm.name.substr(0, model_->layers()[i].input_norm.name.rfind('.') + 1));
            }
        }
        for (auto& [name, t] : model_->named_weights()) {
            bool on = a_.finetuning_type == "full";
            for (const auto& p : prefixes) on = on || name.rfind(p, 0) == 0;
            if (!on) continue;
            t->requires_grad_(true);
            trainable_.emplace_back(name, *t);
        }
    }
    for (auto& [n, t] : trainable_) trainable_count_ += t.numel();
    if (a_.trains_adapter()) all_count_ += trainable_count_;
    log::info("trainable params: ", trainable_count_, " || all params: ", all_count_, " || trainable%: ",
              100.0 * trainable_count_ / std::max<int64_t>(1, all_count_));
    opt_ = std::make_unique<AdamW>(trainable_, AdamWOptions{a_.adam_beta1, a_.adam_beta2, a_.adam_epsilon, a_.weight_decay});
}

// A saved adapter or checkpoint is a good one: weights that overflowed (a huge learning rate can do
// it while the loss of that step was still finite) stop the run before anything is written.
// Adds a step's loss and gradient norm (device scalars) to what settle() reads, and notes the first
// step where either was not finite: nothing is read back here.
void Trainer::track_step(const at::Tensor& step_loss, const at::Tensor& grad_norm) {
    auto dbl = at::TensorOptions().dtype(at::kDouble).device(device_);
    if (!pending_loss_.defined()) {
        pending_loss_ = at::zeros({}, dbl);
        last_grad_norm_ = at::zeros({}, dbl);
        first_bad_ = at::full({2}, -1.0, dbl);
    }
    pending_loss_.add_(step_loss);
    last_grad_norm_.copy_(grad_norm);
    auto bad = at::stack({at::isfinite(step_loss).logical_not(), at::isfinite(grad_norm).logical_not()});
    first_bad_ = at::where(bad & first_bad_.lt(0), static_cast<double>(global_step_ + 1), first_bad_);
}

// Reads what the steps since the last call left on the device (one sync): their losses join the
// running sums, the last gradient norm is kept for the log; a loss or norm that was not finite
// stops the run here, before anything is saved or evaluated, naming the step where it happened.
void Trainer::settle() {
    if (!pending_loss_.defined()) return;
    const auto host = at::cat({pending_loss_.view({1}), last_grad_norm_.view({1}), first_bad_}).cpu();
    const double* v = host.data_ptr<double>();
    pending_loss_.zero_();
    for (int k = 0; k < 2; ++k) {
        if (v[2 + k] < 0) continue;
        global_step_ = static_cast<int64_t>(v[2 + k]) - 1;  // diverged() names global_step_ + 1
        diverged(std::string(k == 0 ? "the loss" : "the gradient norm") + " became NaN or Inf");
    }
    interval_loss_ += v[0];
    run_loss_ += v[0];
    grad_norm_ = v[1];
}

void Trainer::check_weights_finite() {
    std::vector<at::Tensor> finite;  // one flag per tensor, read back with one device sync
    for (const auto& [name, t] : trainable_) finite.push_back(at::isfinite(t).all());
    if (finite.empty()) return;
    const auto flags = at::stack(finite).cpu();
    for (size_t i = 0; i < trainable_.size(); ++i)
        if (!flags[i].item<bool>()) diverged("the weights of " + trainable_[i].first + " became NaN or Inf");
}

void Trainer::write_trainable(const fs::path& dir) {
    if (a_.trains_adapter()) {
        save_lora(*model_, lora_, dir);
    } else {
        model_->save(dir);
    }
    copy_tokenizer_files(a_.model_name_or_path, dir);
}

json Trainer::trainer_state() const {
    json s = {{"best_metric", nullptr},
              {"best_model_checkpoint", nullptr},
              {"epoch", log_history_.empty() ? 0.0 : log_history_.back().value("epoch", 0.0)},
              {"eval_steps", a_.eval_steps},
              {"global_step", global_step_},
              {"is_hyper_param_search", false},
              {"is_local_process_zero", true},
              {"is_world_process_zero", true},
              {"log_history", log_history_},
              {"logging_steps", a_.logging_steps},
              {"max_steps", total_steps_},
              {"num_input_tokens_seen", tokens_seen_},
              {"num_train_epochs", static_cast<int64_t>(std::ceil(static_cast<double>(total_steps_) / steps_per_epoch_))},
              {"save_steps", a_.save_steps},
              {"stateful_callbacks", json::object()},
              {"total_flos", 0},
              {"train_batch_size", a_.per_device_train_batch_size},
              {"trial_name", nullptr},
              {"trial_params", nullptr}};
    s["tunebench"] = {{"epoch_index", epoch_index_},       {"batch_pos", batch_pos_},
                      {"loss_scale", loss_scale_},         {"growth_tracker", growth_tracker_},
                      {"interval_loss", interval_loss_},   {"interval_steps", interval_steps_},
                      {"run_loss", run_loss_},             {"run_steps", run_steps_},
                      {"elapsed_s", elapsed_before_ + std::chrono::duration<double>(Clock::now() - start_).count()},
                      {"finetuning_type", a_.finetuning_type}, {"total_steps", total_steps_},
                      {"world_size", world_.world_size},
                      {"examples_per_batch", a_.per_device_train_batch_size * world_.world_size}};
    if (tensorboard_) {  // relative when inside output_dir, so a moved run folder still finds it
        const auto rel = tensorboard_->path().lexically_relative(out_);
        const bool inside = !rel.empty() && rel.begin()->string() != "..";
        s["tunebench"]["tensorboard_file"] = (inside ? rel : tensorboard_->path()).string();
    }
    return s;
}

void Trainer::save_checkpoint() {
    settle();
    check_weights_finite();
    last_saved_step_ = global_step_;
    if (!is_main()) return;  // the processes hold the same weights; one writes them
    report({.phase = "saving", .message = "saving checkpoint-" + std::to_string(global_step_), .step = global_step_});
    const fs::path final_dir = out_ / ("checkpoint-" + std::to_string(global_step_));
    const fs::path tmp = out_ / (".checkpoint-" + std::to_string(global_step_) + ".partial");
    io::remove_tree(tmp);
    fs::create_directories(tmp);
    try {
        write_trainable(tmp);
        if (adalora_) {  // every rank (the saved adapter keeps only the pattern's) and the importance EMAs
            io::NamedTensors state = lora_state_dict(*model_);
            for (auto& e : adalora_->state()) state.push_back(std::move(e));
            io::save_safetensors(tmp / "adalora_state.safetensors", state);
        }
        io::save_safetensors(tmp / "optimizer.safetensors", opt_->state());
        io::NamedTensors rng = {{"cpu", at::detail::getDefaultCPUGenerator().get_state()}};
        if (device_.is_cuda()) rng.emplace_back("cuda", at::globalContext().defaultGenerator(device_).get_state().to(at::kCPU));
        io::save_safetensors(tmp / "rng_state.safetensors", rng);
        json sched = {{"last_epoch", global_step_}, {"type", sched_.type}, {"warmup_steps", sched_.warmup_steps},
                      {"total_steps", sched_.total_steps}, {"base_lr", a_.learning_rate}};
        io::write_text_atomically(tmp / "scheduler.json", sched.dump(2) + "\n");
        io::write_text_atomically(tmp / "trainer_state.json", trainer_state().dump(2) + "\n");
    } catch (...) {  // a full disk: the unfinished folder goes, the earlier checkpoints stay as they are
        std::error_code ec;
        io::remove_tree(tmp, ec);
        throw;
    }
    // Swap in by rename; a checkpoint of the same step (a resume that ends where it began) is
    // moved aside first and removed only after, so a kill never leaves the step without one.
    const fs::path replaced = out_ / (".checkpoint-" + std::to_string(global_step_) + ".replaced");
    io::remove_tree(replaced);
    if (fs::exists(final_dir)) fs::rename(final_dir, replaced);
    fs::rename(tmp, final_dir);  // a checkpoint folder exists only when complete
    io::remove_tree(replaced);
    if (a_.save_total_limit > 0) {
        auto all = checkpoints_in(out_);
        for (size_t i = 0; i + a_.save_total_limit < all.size(); ++i) io::remove_tree(all[i].second);
    }
}

void Trainer::resume(const fs::path& requested) {
    fs::path ckpt = requested;
    if (a_.resume_from_checkpoint == "true" || a_.resume_from_checkpoint == "last") {
        auto all = checkpoints_in(out_);
        if (all.empty()) throw FileError("no checkpoint-N folder in " + out_.string() + " to resume from",
                                         "train without resume_from_checkpoint first");
        ckpt = all.back().second;
    }
    if (!fs::exists(ckpt / "trainer_state.json")) {
        throw FileError(ckpt.string() + " is not a complete Tunebench checkpoint (no trainer_state.json)",
                        "resume_from_checkpoint should name an output_dir/checkpoint-N folder");
    }
    json st;
    try {
        st = io::parse_json(io::read_file(ckpt / "trainer_state.json"), (ckpt / "trainer_state.json").string());
    } catch (const json::exception& e) {
        throw FileError((ckpt / "trainer_state.json").string() + " is damaged (" + e.what() + ")",
                        "resume from an earlier checkpoint-N folder");
    }
    if (!st.contains("tunebench")) throw FileError(ckpt.string() + " was not written by Tunebench", "resume needs its optimizer and data position");
    const auto& tb = st["tunebench"];
    if (tb.value("finetuning_type", "") != a_.finetuning_type)
        throw ConfigError("the checkpoint was trained with finetuning_type " + tb.value("finetuning_type", std::string("?")),
                          "resume with the same arguments");
    at::NoGradGuard no_grad;
    if (a_.trains_adapter()) {
        const bool ada = a_.finetuning_type == "adalora";
        auto loaded = io::load_safetensors(ckpt / (ada ? "adalora_state.safetensors" : "adapter_model.safetensors"));
        if (ada) {
            lora_.rank_pattern = LoraConfig::read(ckpt).rank_pattern;
            adalora_->load_state(loaded, lora_.rank_pattern);
        }
        std::map<std::string, at::Tensor> byname(loaded.begin(), loaded.end());
        for (auto& [name, t] : trainable_) {
            auto it = byname.find(name);
            if (it == byname.end() || it->second.sizes() != t.sizes())
                throw FileError(ckpt.string() + ": adapter tensor " + name + " is missing or has another shape",
                                "resume with the same lora_rank, lora_target and model");
            t.copy_(it->second);
        }
    } else {
        auto loaded = io::load_safetensors(ckpt / "model.safetensors");
        std::map<std::string, at::Tensor> byname(loaded.begin(), loaded.end());
        for (auto& [name, t] : trainable_) {
            auto it = byname.find(name);
            if (it == byname.end()) throw FileError(ckpt.string() + ": weight " + name + " is missing");
            t.copy_(it->second);
        }
    }
    opt_->load_state(io::load_safetensors(ckpt / "optimizer.safetensors"));
    for (auto& [name, t] : io::load_safetensors(ckpt / "rng_state.safetensors")) {
        at::Generator gen;  // a handle: setting its state sets the default generator's
        if (name == "cpu") gen = at::detail::getDefaultCPUGenerator();
        else if (name == "cuda" && device_.is_cuda()) gen = at::globalContext().defaultGenerator(device_);
        else continue;
        gen.set_state(t);
    }
    global_step_ = st.value("global_step", int64_t{0});
    tokens_seen_ = st.value("num_input_tokens_seen", int64_t{0});
    log_history_ = st.value("log_history", json::array());
    epoch_index_ = tb.value("epoch_index", int64_t{0});
    batch_pos_ = tb.value("batch_pos", int64_t{0});
    loss_scale_ = tb.value("loss_scale", 65536.0);
    growth_tracker_ = tb.value("growth_tracker", int64_t{0});
    interval_loss_ = tb.value("interval_loss", 0.0);
    interval_steps_ = tb.value("interval_steps", int64_t{0});
    run_loss_ = tb.value("run_loss", 0.0);
    run_steps_ = tb.value("run_steps", int64_t{0});
    elapsed_before_ = tb.value("elapsed_s", 0.0);
    if (tb.contains("tensorboard_file")) tensorboard_file_ = out_ / tb.value("tensorboard_file", std::string());
    last_saved_step_ = global_step_;
    // Written by another number of processes or batch size: the epoch goes on at the same example,
    // rounded down to a whole batch of this run (so at most one batch is seen twice).
    const int64_t saved_batch = tb.value("examples_per_batch", a_.per_device_train_batch_size);
    const int64_t batch = a_.per_device_train_batch_size * world_.world_size;
    if (saved_batch != batch) {
        const int64_t example = batch_pos_ * saved_batch;
        batch_pos_ = example / batch;
        if (is_main())
            log::warn("the checkpoint was written with ", tb.value("world_size", 1), " process(es) and ", saved_batch,
                      " examples per batch, this run has ", world_.world_size, " and ", batch, ": epoch ", epoch_index_ + 1,
                      " continues at example ", batch_pos_ * batch, " (it had reached ", example, ")");
    }
    // trainer_log.jsonl: keep only what the checkpoint had seen
    const fs::path log = out_ / "trainer_log.jsonl";
    if (fs::exists(log) && is_main()) {
        std::string kept, line;
        std::ifstream in(log);
        while (std::getline(in, line)) {
            try {
                if (json::parse(line).value("current_steps", int64_t{0}) <= global_step_) kept += line + "\n";
            } catch (const json::exception&) {
            }
        }
        io::write_text_atomically(log, kept);
    }
    if (is_main()) log::info("resumed from ", ckpt.string(), " at step ", global_step_);
}

double Trainer::evaluate() {
    at::NoGradGuard no_grad;
    TrainingModeGuard eval_mode(false);
    double loss = 0;
    int64_t tokens = 0;
    const size_t per_batch = a_.per_device_eval_batch_size, stride = per_batch * world_.world_size;
    for (size_t s = per_batch * world_.rank; s < eval_.size(); s += stride) {  // every world_size-th batch
        std::vector<int64_t> idx;
        for (size_t i = s; i < std::min(eval_.size(), s + a_.per_device_eval_batch_size); ++i) idx.push_back(i);
        auto b = collate(eval_, idx, pad_id_, device_);
        loss += model_->loss_sum(b.input_ids, b.labels, data::kIgnoreIndex).item<double>();
        tokens += b.label_tokens;
    }
    const auto sums = sum_over_processes({loss, static_cast<double>(tokens)});
    // PEFT's AdaLoRA adds its orthogonal regulariser to every loss the model returns, eval's too
    const double orth = adalora_ ? lora_.orth_reg_weight * adalora_->orthogonal_regularization().item<double>() : 0.0;
    return sums[0] / std::max(1.0, sums[1]) + orth;
}

// AdaLoRA's schedule needs the run's length: total_step (else the run's steps) must leave a budgeting phase.
void Trainer::setup_adalora() {
    if (a_.finetuning_type != "adalora") return;
    lora_.total_step = a_.total_step > 0 ? a_.total_step : total_steps_;
    if (lora_.tinit >= lora_.total_step - lora_.tfinal)
        throw ConfigError("AdaLoRA's schedule leaves no budgeting phase: tinit (" + std::to_string(lora_.tinit) +
                              ") should be below total_step − tfinal (" + std::to_string(lora_.total_step) + " − " +
                              std::to_string(lora_.tfinal) + ")",
                          "lower tinit or tfinal, or train for more steps");
    adalora_ = std::make_unique<AdaLoraAllocator>(*model_, lora_);
    log::info("AdaLoRA: rank ", lora_.init_r, " → average ", lora_.target_r, " over steps ", lora_.tinit, "–",
              lora_.total_step - lora_.tfinal, " (total_step ", lora_.total_step, ")");
}

void Trainer::log_event(json entry) {
    log_history_.push_back(entry);
    json line = {{"current_steps", global_step_}, {"total_steps", total_steps_}};
    for (const char* k : {"loss", "eval_loss"})
        if (entry.contains(k)) line[k] = entry[k];
    if (entry.contains("learning_rate")) line["lr"] = entry["learning_rate"];
    line["epoch"] = entry.value("epoch", 0.0);
    line["percentage"] = std::round(10000.0 * global_step_ / std::max<int64_t>(1, total_steps_)) / 100.0;
    const double session = std::chrono::duration<double>(Clock::now() - start_).count();
    const int64_t done = global_step_ - session_start_step_;
    line["elapsed_time"] = hms(elapsed_before_ + session);
    // beyond LLaMA-Factory's keys: seconds to the millisecond, for speed between two logged steps
    line["elapsed_s"] = std::round(1000.0 * (elapsed_before_ + session)) / 1000.0;
    line["remaining_time"] = hms(done > 0 ? session / done * (total_steps_ - global_step_) : 0);
    if (session > 0) line["throughput"] = std::round(100.0 * session_tokens_ / session) / 100.0;
    line["total_tokens"] = tokens_seen_;
    if (is_main()) std::ofstream(out_ / "trainer_log.jsonl", std::ios::app) << io::dump_json(line) << "\n";
    log_tensorboard(entry);
}

// A resumed run appends to the events file its checkpoint names (cut back to the checkpoint's
// step, as trainer_log.jsonl), unless logging_dir now names another folder; else a new file in
// logging_dir or HF's default run folder, which starts with the arguments in the TEXT tab.
void Trainer::open_tensorboard() {
    if (!a_.reports_to_tensorboard() || !is_main()) return;
    const fs::path dir = a_.logging_dir.empty() ? fs::path() : fs::path(a_.logging_dir);
    const bool continue_file = !tensorboard_file_.empty() && fs::exists(tensorboard_file_) &&
                               (dir.empty() || fs::weakly_canonical(dir) == fs::weakly_canonical(tensorboard_file_.parent_path()));
    const fs::path file = continue_file ? tensorboard_file_
                                        : (dir.empty() ? default_tensorboard_run_dir(out_) : dir) / tensorboard_file_name();
    tensorboard_ = std::make_unique<TensorBoardEvents>(file, global_step_);
    if (!continue_file) tensorboard_->text("args", "```yaml\n" + a_.to_yaml() + "```", 0);
    log::info("TensorBoard events: ", file.string(), " (tensorboard --logdir ", file.parent_path().parent_path().string(), ")");
}

// HF's TensorBoardCallback.on_log: every number of the log entry at the global step, renamed by
// rewrite_logs ("loss" → train/loss, "eval_loss" → eval/loss).
void Trainer::log_tensorboard(const json& entry) {
    if (!tensorboard_) return;
    for (auto it = entry.begin(); it != entry.end(); ++it)
        if (it.key() != "step" && it.value().is_number()) tensorboard_->scalar(tensorboard_tag(it.key()), it.value().get<double>(), global_step_);
}

[[noreturn]] void Trainer::diverged(const std::string& what) {
    auto all = checkpoints_in(out_);
    throw Error(what + " at step " + std::to_string(global_step_ + 1) + "; training stopped" +
                    (all.empty() ? std::string(" (no checkpoint was saved yet)")
                                 : "; the last good checkpoint " + all.back().second.string() + " is intact"),
                "lower learning_rate, use bf16 rather than fp16, or set max_grad_norm; check the data near this step");
}

void Trainer::save_final(bool stopped) {
    settle();
    check_weights_finite();
    if (!is_main()) {
        if (!eval_.empty()) evaluate();  // a collective: every process takes its share
        return;
    }
    report({.phase = "saving", .message = "saving the final " + std::string(a_.trains_adapter() ? "adapter" : "model"),
            .step = global_step_});
    write_trainable(out_);
    const double runtime = elapsed_before_ + std::chrono::duration<double>(Clock::now() - start_).count();
    const double epoch = static_cast<double>(global_step_) / steps_per_epoch_;
    json train = {{"epoch", epoch},
                  {"total_flos", 0},
                  {"train_loss", run_steps_ ? run_loss_ / run_steps_ : 0.0},
                  {"train_runtime", runtime},
                  {"train_samples_per_second", runtime > 0 ? global_step_ * a_.per_device_train_batch_size * a_.gradient_accumulation_steps * world_.world_size / runtime : 0.0},
                  {"train_steps_per_second", runtime > 0 ? global_step_ / runtime : 0.0}};
    json final_entry = train;
    final_entry["step"] = global_step_;
    log_history_.push_back(final_entry);
    log_tensorboard(final_entry);
    json all = train;
    if (!eval_.empty()) {
        const auto t0 = Clock::now();
        const double el = evaluate();
        const double rt = std::chrono::duration<double>(Clock::now() - t0).count();
        json ev = {{"epoch", epoch}, {"eval_loss", el}, {"eval_runtime", rt},
                   {"eval_samples_per_second", rt > 0 ? eval_.size() / rt : 0.0}};
        for (auto it = ev.begin(); it != ev.end(); ++it) all[it.key()] = it.value();
        log_tensorboard(ev);
        io::write_text_atomically(out_ / "eval_results.json", ev.dump(4) + "\n");
    }
    io::write_text_atomically(out_ / "train_results.json", train.dump(4) + "\n");
    io::write_text_atomically(out_ / "all_results.json", all.dump(4) + "\n");
    io::write_text_atomically(out_ / "trainer_state.json", trainer_state().dump(2) + "\n");
    if (a_.plot_loss) {
        for (const char* key : {"loss", "eval_loss"}) {
            auto svg = loss_plot_svg(log_history_, key);
            if (!svg.empty()) io::write_text_atomically(out_ / (std::string("training_") + key + ".svg"), svg);
        }
    }
    log::info(stopped ? "stopped early and saved to " : "training finished; saved to ", out_.string());
}

TrainResult Trainer::run() {
    start_ = Clock::now();
    check_output_dir();
    join_processes();
    load_model_and_data();  // validates the model, the data and the template before anything is removed
    setup_trainable();
    // Data parallel: a batch is per_device × world_size rows of the one seeded order; process r
    // trains rows [r × per_device, (r+1) × per_device) of each (dist::rank_slice).
    const int64_t per_device = a_.per_device_train_batch_size, accum = a_.gradient_accumulation_steps;
    const int64_t bs = per_device * world_.world_size;
    num_batches_ = (static_cast<int64_t>(train_.size()) + bs - 1) / bs;
    steps_per_epoch_ = std::max<int64_t>(1, (num_batches_ + accum - 1) / accum);
    total_steps_ = a_.max_steps > 0 ? a_.max_steps : static_cast<int64_t>(std::ceil(a_.num_train_epochs * steps_per_epoch_));
    sched_ = {a_.lr_scheduler_type, warmup_steps_for(a_.warmup_steps, a_.warmup_ratio, total_steps_), total_steps_};
    setup_adalora();
    if (!a_.resume_from_checkpoint.empty()) resume(a_.resume_from_checkpoint);
    if (comm_) {
        // DDP's start: every process begins from rank 0's trainable weights
        std::vector<at::Tensor> weights;
        for (auto& [n, t] : trainable_) weights.push_back(t);
        comm_->broadcast_from_main(weights);
        grad_sync_ = std::make_unique<dist::GradientSync>(*comm_, trainable_);
    }
    if (is_main()) {
        clear_earlier_run();
        fs::create_directories(out_);
        // what an earlier run killed mid-write left behind (<file>.tmp-<pid>-<n>)
        int orphans = io::remove_orphan_temporaries(out_);
        for (auto& [n, p] : checkpoints_in(out_)) orphans += io::remove_orphan_temporaries(p);
        if (orphans > 0) log::info("removed ", orphans, " unfinished temporary file(s) of an interrupted run in ", out_.string());
        // A fresh start in a folder whose earlier run never reached a checkpoint: its log lines would
        // mix with this run's (a resume keeps the lines up to its checkpoint instead).
        if (a_.resume_from_checkpoint.empty() && fs::exists(out_ / "trainer_log.jsonl"))
            io::write_text_atomically(out_ / "trainer_log.jsonl", "");
        io::write_text_atomically(out_ / "training_args.yaml", a_.to_yaml());
        open_tensorboard();
    }
    session_start_step_ = global_step_;
    start_ = Clock::now();

    ForwardOptions fo;
    fo.gradient_checkpointing = a_.gradient_checkpointing;
    fo.checkpoint_mlp_only = a_.gradient_checkpointing_scope == "mlp";
    fo.neftune_noise_alpha = a_.neftune_noise_alpha;
    const bool fp16 = a_.fp16;
    std::vector<std::vector<int64_t>> batches = epoch_batches(train_, bs, a_.seed, epoch_index_, true, a_.group_by_length);
    bool stopped = false;
    TrainingModeGuard training_mode_on(true);  // LoRA dropout on; evaluate() turns it off
    report({.phase = "training", .message = "training", .step = global_step_});
    while (global_step_ < total_steps_) {
        // one process alone must not stop: the processes act on the request they agreed on last step
        const int req = comm_ ? agreed_request_ : request();
        if (req == static_cast<int>(TrainRequest::Cancel)) throw CancelledError("training cancelled");
        if (req == static_cast<int>(TrainRequest::StopAndSave)) {
            stopped = true;
            break;
        }
        if (batch_pos_ >= static_cast<int64_t>(batches.size())) {
            ++epoch_index_;
            batch_pos_ = 0;
            batches = epoch_batches(train_, bs, a_.seed, epoch_index_, true, a_.group_by_length);
        }
        const int64_t n_micro = std::min<int64_t>(accum, static_cast<int64_t>(batches.size()) - batch_pos_);
        std::vector<Batch> micro;
        int64_t label_tokens = 0;  // of the whole step, over all processes: the loss's denominator
        for (int64_t m = 0; m < n_micro; ++m) {
            const auto& rows = batches[batch_pos_ + m];
            const auto counts = count_tokens(train_, rows);
            label_tokens += counts.label_tokens;
            tokens_seen_ += counts.tokens;
            session_tokens_ += counts.tokens;
            const auto mine = dist::rank_slice(rows, per_device, world_);
            if (!mine.empty()) micro.push_back(collate(train_, mine, pad_id_, device_, 8, a_.neat_packing));
        }
        auto step_loss = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device_));
        for (auto& b : micro) {
            if (!comm_ && request() == static_cast<int>(TrainRequest::Cancel)) throw CancelledError("training cancelled");
            fo.position_ids = b.position_ids;  // packed rows: per-example positions (and segments)
            fo.segments = b.segments;
            auto loss_sum = model_->loss_sum(b.input_ids, b.labels, data::kIgnoreIndex, fo);
            auto loss = loss_sum / static_cast<double>(std::max<int64_t>(1, label_tokens));
            if (adalora_) {  // PEFT adds orth_reg_weight × the regulariser to the model's loss; once per step here
                auto reg = adalora_->orthogonal_regularization() *
                           (lora_.orth_reg_weight / static_cast<double>(n_micro * world_.world_size));
                step_loss.add_(reg.detach().to(at::kDouble));
                loss = loss + reg;
            }
            (fp16 ? loss * loss_scale_ : loss).backward();
            step_loss.add_(loss_sum.detach().to(at::kDouble) / static_cast<double>(std::max<int64_t>(1, label_tokens)));
        }
        batch_pos_ += n_micro;
        if (comm_) {
            // the step's loss and each process's stop request, summed; then the gradients
            const int r = request();
            const auto sums = sum_over_processes({step_loss.item<double>(),
                                                  r == static_cast<int>(TrainRequest::StopAndSave) ? 1.0 : 0.0,
                                                  r == static_cast<int>(TrainRequest::Cancel) ? 1.0 : 0.0});
            step_loss.fill_(sums[0]);
            const double value = sums[0];
            agreed_request_ = sums[2] > 0 ? static_cast<int>(TrainRequest::Cancel)
                              : sums[1] > 0 ? static_cast<int>(TrainRequest::StopAndSave) : 0;
            if (!std::isfinite(value)) diverged("the loss became " + std::string(std::isnan(value) ? "NaN" : "Inf"));
            grad_sync_->all_reduce();
        }
        bool skip = false;
        if (fp16) {
            opt_->scale_grads(1.0 / loss_scale_);
            if (!opt_->grads_finite()) {
                skip = true;
                loss_scale_ *= 0.5;
                growth_tracker_ = 0;
                log::warn("fp16: gradient overflow at step ", global_step_ + 1, ", loss scale lowered to ", loss_scale_);
            } else if (++growth_tracker_ == 2000) {
                loss_scale_ *= 2.0;
                growth_tracker_ = 0;
            }
        }
        at::Tensor grad_norm = at::zeros({}, step_loss.options());
        if (!skip) {
            // a norm that is not finite makes the step's update NaN: settle() stops the run before
            // those weights are saved or evaluated (and check_weights_finite() guards every save)
            grad_norm = opt_->clip_grad_norm(a_.max_grad_norm);
            opt_->step(a_.learning_rate * sched_.factor(global_step_));
            // PEFT's update_and_allocate(global_step): after the step, before the gradients go
            if (adalora_ && adalora_->update_and_allocate(global_step_)) lora_.rank_pattern = adalora_->rank_pattern();
        }
        opt_->zero_grad();
        track_step(step_loss, grad_norm);
        ++global_step_;
        ++interval_steps_;
        ++run_steps_;
        const double epoch = epoch_index_ + static_cast<double>(batch_pos_) / static_cast<double>(batches.size());
        const double lr = a_.learning_rate * sched_.factor(global_step_);
        TrainProgress p{.phase = "training", .step = global_step_, .epoch = epoch, .learning_rate = lr};
        if (global_step_ % a_.logging_steps == 0 || global_step_ == total_steps_) {
            settle();
            const double loss = interval_loss_ / interval_steps_;
            p.grad_norm = grad_norm_;
            log_event({{"epoch", epoch}, {"grad_norm", grad_norm_}, {"learning_rate", lr}, {"loss", loss}, {"step", global_step_}});
            interval_loss_ = 0;
            interval_steps_ = 0;
            p.loss = loss;
            p.is_log = true;
        }
        report(p);
        if (!eval_.empty() && a_.eval_steps > 0 && global_step_ % a_.eval_steps == 0) {
            settle();
            report({.phase = "evaluating", .step = global_step_, .epoch = epoch});
            const auto t0 = Clock::now();
            const double el = evaluate();
            const double rt = std::chrono::duration<double>(Clock::now() - t0).count();
            log_event({{"epoch", epoch}, {"eval_loss", el}, {"eval_runtime", rt},
                       {"eval_samples_per_second", rt > 0 ? eval_.size() / rt : 0.0},
                       {"eval_steps_per_second", rt > 0 ? std::ceil(eval_.size() / double(a_.per_device_eval_batch_size)) / rt : 0.0},
                       {"step", global_step_}});
            report({.phase = "training", .step = global_step_, .epoch = epoch, .eval_loss = el, .is_log = true});
        }
        if (global_step_ % a_.save_steps == 0 || global_step_ == total_steps_) save_checkpoint();
    }
    if (stopped && last_saved_step_ != global_step_ && global_step_ > 0) save_checkpoint();
    save_final(stopped);
    report({.phase = "done", .message = stopped ? "stopped and saved" : "finished", .step = global_step_});
    TrainResult r;
    r.global_step = global_step_;
    r.train_loss = run_steps_ ? run_loss_ / run_steps_ : 0;
    r.trainable_params = trainable_count_;
    r.all_params = all_count_;
    r.stopped_early = stopped;
    r.output_dir = out_.string();
    return r;
}

}  // namespace

TrainResult run_training(const TrainingArgs& args, const std::function<void(const TrainProgress&)>& on_progress,
                         std::atomic<int>* request) {
    Trainer t(args, on_progress, request);
    try {
        return t.run();
    } catch (const c10::OutOfMemoryError& e) {
        // Nothing is written after an OOM: the last checkpoint (if any) is the state to resume.
        std::string advice = "lower per_device_train_batch_size (raise gradient_accumulation_steps to keep the batch) or cutoff_len";
        if (!args.gradient_checkpointing) advice = "turn gradient checkpointing on, or " + advice;
        if (args.trains_adapter() && args.quantization_bit == 0) advice += ", or use QLoRA (quantization_bit 4)";
        throw Error("the GPU ran out of memory while training (" + first_line(e.what_without_backtrace()).substr(0, 200) +
                        "); checkpoints written before are intact",
                    advice + "; tunebench-cli estimate shows what the run needs");
    }
}

}  // namespace tb
