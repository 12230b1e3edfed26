// Training on the demo model (a 2-layer ChatGLM with a SentencePiece tokenizer, made by
// init_demo): LoRA and QLoRA learn the demo answers, a resumed run equals an uninterrupted one
// bit for bit, gradient checkpointing changes nothing, an export equals base + adapter, and a
// diverging run stops with its last checkpoint intact.
#include <gtest/gtest.h>

#include <cmath>

#include <c10/core/GradMode.h>

#include <nlohmann/json.hpp>

#include "adapters/lora_adapter.h"
#include "core/error.h"
#include "demo/demo_model.h"
#include "export/merge_export.h"
#include "infer/chat_session.h"
#include "io/atomic_file.h"
#include "io/tensor_io.h"
#include "model/decoder.h"
#include "test_support.h"
#include "train/batching.h"
#include "train/trainer.h"

using namespace tb;
namespace fs = std::filesystem;

namespace {

const fs::path& demo_dir() {
    static test::TempDir dir;
    static fs::path model = init_demo(dir.path);
    (void)model;
    return dir.path;
}

TrainingArgs demo_args(const fs::path& out, ArgMap extra = {}) {
    ArgMap m = {{"model_name_or_path", (demo_dir() / "model").string()},
                {"dataset", "tunebench_demo"},
                {"dataset_dir", (demo_dir() / "data").string()},
                {"template", "chatglm3"},
                {"output_dir", out.string()},
                {"cutoff_len", "256"},
                {"per_device_train_batch_size", "4"},
                {"learning_rate", "1e-2"},
                {"num_train_epochs", "30"},
                {"lr_scheduler_type", "cosine"},
                {"warmup_ratio", "0.05"},
                {"logging_steps", "10"},
                {"save_steps", "1000"},
                {"device", "cpu"},
                {"gradient_checkpointing", "false"}};
    for (auto& [k, v] : extra) m[k] = v;
    return TrainingArgs::from_map(m);
}

std::vector<double> losses(const fs::path& out) {
    auto st = nlohmann::json::parse(test::slurp(out / "trainer_state.json"));
    std::vector<double> l;
    for (const auto& e : st["log_history"])
        if (e.contains("loss")) l.push_back(e["loss"]);
    return l;
}

std::string greedy_answer(const fs::path& adapter, const std::string& question, int quantization_bit = 0) {
    ArgMap m = {{"model_name_or_path", (demo_dir() / "model").string()},
                {"adapter_name_or_path", adapter.string()},
                {"template", "chatglm3"},
                {"device", "cpu"},
                {"do_sample", "false"},
                {"max_new_tokens", "80"},
                {"quantization_bit", std::to_string(quantization_bit)}};
    ChatSession s(InferenceArgs::from_map(m));
    return s.reply(question).text;
}

const std::string kQuestion = "What is Tunebench?";
const std::string kAnswer =
    "Tunebench is a desktop workbench for fine-tuning large language models with LoRA and QLoRA, chatting with the "
    "result and exporting a merged model.";

}  // namespace

TEST(Training, LoraLearnsTheDemoAnswers) {
    test::TempDir out;
    auto r = run_training(demo_args(out.path));
    auto l = losses(out.path);
    ASSERT_GE(l.size(), 10u);
    EXPECT_LT(l.back(), 0.1 * l.front()) << "first " << l.front() << " last " << l.back();
    EXPECT_EQ(r.global_step, 240);
    EXPECT_EQ(greedy_answer(out.path, kQuestion), kAnswer);
    // outputs as LLaMA-Factory writes them
    for (const char* f : {"adapter_config.json", "adapter_model.safetensors", "trainer_log.jsonl", "all_results.json",
                          "training_args.yaml", "trainer_state.json", "tokenizer.model", "checkpoint-240/optimizer.safetensors"})
        EXPECT_TRUE(fs::exists(out.path / f)) << f;
    auto cfg = nlohmann::json::parse(test::slurp(out.path / "adapter_config.json"));
    EXPECT_EQ(cfg["peft_type"], "LORA");
    EXPECT_EQ(cfg["r"], 8);
    EXPECT_EQ(cfg["lora_alpha"], 16);
    EXPECT_EQ(cfg["target_modules"], (nlohmann::json{"dense", "dense_4h_to_h", "dense_h_to_4h", "query_key_value"}));
    auto tensors = io::load_safetensors(out.path / "adapter_model.safetensors");
    EXPECT_EQ(tensors.size(), 2u * 4 * 2);  // 2 layers × 4 modules × (A, B)
    EXPECT_EQ(tensors[0].first.rfind("base_model.model.transformer.encoder.layers.", 0), 0u);
    // trainer_log.jsonl: one line per logging step
    auto log = test::slurp(out.path / "trainer_log.jsonl");
    EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 24);
    EXPECT_NE(log.find("\"current_steps\":240"), std::string::npos);
}

TEST(Training, QloraFourBitLearnsTheDemoAnswers) {
    test::TempDir out;
    run_training(demo_args(out.path, {{"quantization_bit", "4"}}));
    auto l = losses(out.path);
    EXPECT_LT(l.back(), 0.1 * l.front()) << "first " << l.front() << " last " << l.back();
    EXPECT_EQ(greedy_answer(out.path, kQuestion, 4), kAnswer);
    // merging into the quantized base is refused with the way out
    ArgMap m = {{"model_name_or_path", (demo_dir() / "model").string()}, {"adapter_name_or_path", out.path.string()},
                {"export_dir", (out.path / "merged").string()}, {"quantization_bit", "4"}};
    try {
        ExportArgs::from_map(m);
        FAIL();
    } catch (const UnsupportedError& e) {
        EXPECT_NE(e.hint().find("unquantized base"), std::string::npos) << e.hint();
    }
}

TEST(Training, ResumeFromCheckpointEqualsAnUninterruptedRunBitForBit) {
    // dropout and NEFTune draw random numbers: the RNG state must be restored too
    ArgMap extra = {{"max_steps", "14"}, {"save_steps", "5"}, {"logging_steps", "3"}, {"lora_dropout", "0.1"},
                    {"neftune_noise_alpha", "5"}, {"gradient_accumulation_steps", "2"}, {"per_device_train_batch_size", "3"}};
    test::TempDir full, part;
    run_training(demo_args(full.path, extra));

    std::atomic<int> request{0};
    auto stopped = run_training(demo_args(part.path, extra), [&](const TrainProgress& p) {
        if (p.phase == "training" && p.step == 7) request = static_cast<int>(TrainRequest::StopAndSave);
    }, &request);
    EXPECT_TRUE(stopped.stopped_early);
    EXPECT_EQ(stopped.global_step, 7);
    ASSERT_TRUE(fs::exists(part.path / "checkpoint-5"));
    ASSERT_TRUE(fs::exists(part.path / "checkpoint-7"));  // stop and save
    extra["resume_from_checkpoint"] = (part.path / "checkpoint-5").string();
    run_training(demo_args(part.path, extra));

    EXPECT_EQ(losses(part.path), losses(full.path));
    auto a = io::load_safetensors(full.path / "adapter_model.safetensors");
    auto b = io::load_safetensors(part.path / "adapter_model.safetensors");
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i].second, b[i].second)) << a[i].first;
    // an earlier run in output_dir without resume or overwrite is a clear error
    extra.erase("resume_from_checkpoint");
    EXPECT_THROW(run_training(demo_args(part.path, extra)), ConfigError);
}

TEST(Training, GradientCheckpointingGivesTheSameLosses) {
    test::TempDir a;
    ArgMap extra = {{"max_steps", "6"}, {"logging_steps", "1"}, {"lora_dropout", "0.1"}};
    run_training(demo_args(a.path, extra));
    const auto la = losses(a.path);
    for (const char* scope : {"layer", "mlp"}) {  // whole layers, or only the MLPs, recomputed
        test::TempDir b;
        extra["gradient_checkpointing"] = "true";
        extra["gradient_checkpointing_scope"] = scope;
        run_training(demo_args(b.path, extra));
        auto lb = losses(b.path);
        ASSERT_EQ(la.size(), lb.size()) << scope;
        for (size_t i = 0; i < la.size(); ++i) EXPECT_NEAR(la[i], lb[i], 1e-6 * std::abs(la[i])) << scope << " " << i;
    }
    extra["gradient_checkpointing_scope"] = "attention";
    EXPECT_THROW(run_training(demo_args(a.path, extra)), ConfigError);
}

TEST(Training, ExportedMergedModelEqualsBasePlusAdapterAndReloads) {
    test::TempDir out;
    run_training(demo_args(out.path, {{"max_steps", "20"}, {"learning_rate", "5e-3"}}));
    ArgMap m = {{"model_name_or_path", (demo_dir() / "model").string()}, {"adapter_name_or_path", out.path.string()},
                {"export_dir", (out.path / "merged").string()}, {"export_size", "0.0005"}, {"export_dtype", "float32"}};
    auto report = export_merged_model(ExportArgs::from_map(m));
    EXPECT_GT(report.shards, 1);  // 0.5 MB shards
    auto check = verify_export(ExportArgs::from_map(m), {"你好", "What is Tunebench?"});
    EXPECT_TRUE(check.ok) << check.max_abs_diff << " > " << check.tolerance;
    auto without_adapter = m;
    without_adapter.erase("adapter_name_or_path");  // the export is not the plain base: the check must say so
    EXPECT_FALSE(verify_export(ExportArgs::from_map(without_adapter), {"你好", "What is Tunebench?"}).ok);
    EXPECT_TRUE(fs::exists(out.path / "merged/model.safetensors.index.json"));
    EXPECT_TRUE(fs::exists(out.path / "merged/tokenizer.model"));
    auto merged = Model::load(out.path / "merged", {.dtype = "float32", .device = "cpu"});
    auto base = Model::load(demo_dir() / "model", {.dtype = "float32", .device = "cpu"});
    load_lora(*base, out.path);  // unmerged: base(x) + B·A·s
    auto ids = at::tensor(std::vector<int64_t>{5, 17, 99, 200, 31, 7, 300}).unsqueeze(0);
    c10::NoGradGuard ng;
    auto a = merged->forward(ids, nullptr), b = base->forward(ids, nullptr);
    EXPECT_TRUE(at::allclose(a, b, 1e-4, 1e-4)) << (a - b).abs().max().item<double>();
    auto plain = Model::load(demo_dir() / "model", {.dtype = "float32", .device = "cpu"});
    EXPECT_FALSE(at::allclose(a, plain->forward(ids, nullptr), 1e-3, 1e-3));  // the adapter matters
    // the folder is a complete model: it chats like base + adapter
    ChatSession exported(InferenceArgs::from_map({{"model_name_or_path", (out.path / "merged").string()},
                                                  {"template", "chatglm3"}, {"device", "cpu"}, {"do_sample", "false"},
                                                  {"max_new_tokens", "40"}}));
    EXPECT_EQ(exported.reply(kQuestion).text, greedy_answer(out.path, kQuestion));
}

TEST(Training, NanLossStopsAndLeavesTheLastCheckpointIntact) {
    test::TempDir out;
    std::string msg;
    try {
        run_training(demo_args(out.path, {{"learning_rate", "1e30"}, {"lr_scheduler_type", "constant"}, {"save_steps", "1"},
                                          {"max_steps", "10"}, {"max_grad_norm", "0"}}));
        FAIL() << "the run should have stopped";
    } catch (const Error& e) {
        msg = e.what();
        EXPECT_TRUE(msg.find("NaN") != std::string::npos || msg.find("Inf") != std::string::npos) << msg;
    }
    // whatever checkpoint the message calls good exists and is finite (an all-NaN one is never saved)
    int saved = 0;
    for (const auto& e : fs::directory_iterator(out.path)) {
        if (e.path().filename().string().rfind("checkpoint-", 0) != 0) continue;
        ++saved;
        for (const auto& [name, t] : io::load_safetensors(e.path() / "adapter_model.safetensors"))
            EXPECT_TRUE(at::isfinite(t).all().item<bool>()) << e.path() << " " << name;
    }
    if (saved == 0) EXPECT_NE(msg.find("no checkpoint was saved yet"), std::string::npos) << msg;
    else EXPECT_NE(msg.find("is intact"), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(out.path / "adapter_model.safetensors"));  // no final adapter from a diverged run
    for (const auto& e : fs::directory_iterator(out.path))
        EXPECT_EQ(e.path().filename().string().find("partial"), std::string::npos) << e.path();
}

TEST(Training, ArgumentsLikeLlamaFactory) {
    ArgMap m = {{"model_name_or_path", "m"}, {"dataset", "d"}, {"output_dir", "o"}, {"stage", "sft"}, {"do_train", "true"},
                {"lora_rank", "4"}, {"mystery_key", "1"}};
    std::vector<std::string> unknown;
    auto a = TrainingArgs::from_map(m, &unknown);
    EXPECT_EQ(unknown, std::vector<std::string>{"mystery_key"});
    EXPECT_DOUBLE_EQ(a.effective_lora_alpha(), 8.0);
    EXPECT_TRUE(a.gradient_checkpointing);
    m["stage"] = "dpo";
    EXPECT_THROW(TrainingArgs::from_map(m), UnsupportedError);
    m["stage"] = "sft";
    m["deepspeed"] = "ds_z3_config.json";
    EXPECT_THROW(TrainingArgs::from_map(m), UnsupportedError);
    m.erase("deepspeed");
    m["lr_scheduler_type"] = "polynomial";
    EXPECT_THROW(TrainingArgs::from_map(m), ConfigError);
    // training_args.yaml reads back to the same arguments
    m.erase("lr_scheduler_type");
    m.erase("mystery_key");
    test::TempDir t;
    io::write_text_atomically(t.path / "a.yaml", a.to_yaml());
    auto back = TrainingArgs::from_map(read_yaml_args(t.path / "a.yaml"));
    EXPECT_EQ(back.to_yaml(), a.to_yaml());
}

TEST(Training, EvalLossOnAValidationSplitAndTwoDatasetsJoined) {
    test::TempDir out;
    // the demo dataset registered twice under another name: "a,b" concatenates
    auto info = nlohmann::json::parse(test::slurp(demo_dir() / "data/dataset_info.json"));
    test::TempDir data;
    fs::create_directories(data.path / "demo");
    fs::copy_file(demo_dir() / "data/demo/tunebench_demo.json", data.path / "demo/tunebench_demo.json");
    info["again"] = info["tunebench_demo"];
    io::write_text_atomically(data.path / "dataset_info.json", info.dump());
    run_training(demo_args(out.path, {{"dataset", "tunebench_demo, again"}, {"dataset_dir", data.path.string()},
                                      {"val_size", "0.25"}, {"eval_steps", "5"}, {"max_steps", "10"}, {"plot_loss", "true"}}));
    auto st = nlohmann::json::parse(test::slurp(out.path / "trainer_state.json"));
    int evals = 0;
    for (const auto& e : st["log_history"]) evals += e.contains("eval_loss");
    EXPECT_EQ(evals, 2);  // steps 5 and 10
    auto all = nlohmann::json::parse(test::slurp(out.path / "all_results.json"));
    EXPECT_TRUE(all.contains("eval_loss"));
    EXPECT_TRUE(all.contains("train_loss"));
    EXPECT_TRUE(fs::exists(out.path / "training_eval_loss.svg"));
    EXPECT_TRUE(fs::exists(out.path / "training_loss.svg"));
    // 64 rows, 16 held out, batch 4 → 12 steps per epoch: epoch after 10 steps = 10/12
    EXPECT_NEAR(st["log_history"][0]["epoch"].get<double>(), 1.0 / 12.0 * st["log_history"][0]["step"].get<double>(), 1e-9);
}

TEST(Training, FreezeTrainsOnlyTheLastLayersAndSavesAFullModel) {
    test::TempDir out;
    run_training(demo_args(out.path, {{"finetuning_type", "freeze"}, {"freeze_trainable_layers", "1"}, {"max_steps", "5"},
                                      {"learning_rate", "1e-3"}}));
    auto before = Model::load(demo_dir() / "model", {.dtype = "float32", .device = "cpu"});
    auto after = Model::load(out.path, {.dtype = "float32", .device = "cpu"});  // config.json + model.safetensors
    auto wb = before->named_weights(), wa = after->named_weights();
    ASSERT_EQ(wb.size(), wa.size());
    int changed = 0;
    for (size_t i = 0; i < wb.size(); ++i) {
        const bool last_layer = wb[i].first.find("layers.1.") != std::string::npos;
        const bool same = at::equal(*wb[i].second, *wa[i].second);
        EXPECT_EQ(same, !last_layer) << wb[i].first;
        changed += !same;
    }
    EXPECT_GT(changed, 0);
    test::TempDir full;
    auto r = run_training(demo_args(full.path, {{"finetuning_type", "full"}, {"max_steps", "2"}, {"learning_rate", "1e-4"}}));
    EXPECT_EQ(r.trainable_params, r.all_params);
}

TEST(Training, PackingFillsRowsWithWholeExamples) {
    std::vector<data::EncodedExample> ex;
    for (int n : {5, 3, 7, 2, 6}) ex.push_back({std::vector<int64_t>(n, n), std::vector<int64_t>(n, n)});
    auto packed = pack_examples(ex, 10);
    size_t total = 0;
    for (const auto& p : packed) {
        EXPECT_LE(p.input_ids.size(), 10u);
        total += p.input_ids.size();
    }
    EXPECT_EQ(total, 23u);        // nothing lost or split
    EXPECT_EQ(packed.size(), 3u);  // first fit decreasing: 7+3, 6+2, 5
    test::TempDir out;
    auto r = run_training(demo_args(out.path, {{"packing", "true"}, {"max_steps", "3"}}));
    EXPECT_EQ(r.global_step, 3);
    test::TempDir neat;  // neat packing (tests/unit/test_packing.cpp checks its attention) trains too
    auto n = run_training(demo_args(neat.path, {{"neat_packing", "true"}, {"max_steps", "3"}}));
    EXPECT_EQ(n.global_step, 3);
    EXPECT_TRUE(std::isfinite(n.train_loss));
}

TEST(Training, LegacyExportWritesPytorchModelBinThatReloads) {
    test::TempDir out;
    run_training(demo_args(out.path, {{"max_steps", "5"}}));
    ArgMap m = {{"model_name_or_path", (demo_dir() / "model").string()}, {"adapter_name_or_path", out.path.string()},
                {"export_dir", (out.path / "legacy").string()}, {"export_legacy_format", "true"}, {"export_dtype", "float32"}};
    export_merged_model(ExportArgs::from_map(m));
    EXPECT_TRUE(fs::exists(out.path / "legacy/pytorch_model.bin"));
    auto legacy = Model::load(out.path / "legacy", {.dtype = "float32", .device = "cpu"});
    m["export_dir"] = (out.path / "st").string();
    m["export_legacy_format"] = "false";
    export_merged_model(ExportArgs::from_map(m));
    auto st = Model::load(out.path / "st", {.dtype = "float32", .device = "cpu"});
    auto ids = at::tensor(std::vector<int64_t>{5, 9, 200}).unsqueeze(0);
    c10::NoGradGuard ng;
    EXPECT_TRUE(at::equal(legacy->forward(ids, nullptr), st->forward(ids, nullptr)));
    // an export_dir holding other files is never wiped
    fs::create_directories(out.path / "mine");
    io::write_text_atomically(out.path / "mine/notes.txt", "keep me");
    m["export_dir"] = (out.path / "mine").string();
    EXPECT_THROW(export_merged_model(ExportArgs::from_map(m)), ConfigError);
    EXPECT_TRUE(fs::exists(out.path / "mine/notes.txt"));
}

TEST(Training, CancelStopsWithoutSavingAndInt8BaseAlsoLearns) {
    test::TempDir out;
    std::atomic<int> request{0};
    EXPECT_THROW(run_training(demo_args(out.path, {{"save_steps", "2"}}), [&](const TrainProgress& p) {
        if (p.phase == "training" && p.step == 3) request = static_cast<int>(TrainRequest::Cancel);
    }, &request), CancelledError);
    EXPECT_TRUE(fs::exists(out.path / "checkpoint-2"));
    EXPECT_FALSE(fs::exists(out.path / "checkpoint-4"));
    EXPECT_FALSE(fs::exists(out.path / "adapter_model.safetensors"));  // no final adapter from a cancelled run

    test::TempDir q8;
    run_training(demo_args(q8.path, {{"quantization_bit", "8"}, {"max_steps", "120"}}));
    auto l = losses(q8.path);
    EXPECT_LT(l.back(), 0.5 * l.front()) << l.front() << " → " << l.back();
    EXPECT_THROW(run_training(demo_args(q8.path, {{"template", "nope"}, {"overwrite_output_dir", "true"}})), UnsupportedError);
}

// export never destroys what the user made: a project folder that happens to hold a config.json,
// the base model named another way, a folder holding the adapter; an earlier export is replaced.
TEST(Training, ExportRefusesFoldersItDidNotWriteAndNeverTheBaseOrAdapter) {
    test::TempDir tmp;
    const fs::path base = demo_dir() / "model";
    run_training(demo_args(tmp.path / "adapter", {{"max_steps", "2"}}));
    auto args = [&](const fs::path& out, const std::string& model) {
        return ExportArgs::from_map({{"model_name_or_path", model}, {"adapter_name_or_path", (tmp.path / "adapter").string()},
                                     {"export_dir", out.string()}, {"export_dtype", "float32"}});
    };
    // a project folder with config.json, src/ and .git survives
    fs::create_directories(tmp.path / "project/src");
    fs::create_directories(tmp.path / "project/.git");
    io::write_text_atomically(tmp.path / "project/config.json", "{}");
    io::write_text_atomically(tmp.path / "project/src/main.py", "print(1)\n");
    auto msg = test::error_of([&] { export_merged_model(args(tmp.path / "project", base.string())); });
    EXPECT_NE(msg.find("did not export"), std::string::npos) << msg;
    EXPECT_TRUE(fs::exists(tmp.path / "project/src/main.py"));
    EXPECT_TRUE(fs::exists(tmp.path / "project/.git"));
    // the base folder spelt differently, and a folder that holds the adapter
    const auto files_before = std::distance(fs::directory_iterator(base), fs::directory_iterator());
    for (const fs::path& out : {base / ".", fs::path(base.string() + "/"), base / ".." / base.filename(), base.parent_path()}) {
        msg = test::error_of([&] { export_merged_model(args(out, base.string())); });
        EXPECT_NE(msg.find("would replace it"), std::string::npos) << out << ": " << msg;
    }
    msg = test::error_of([&] { export_merged_model(args(tmp.path, base.string())); });
    EXPECT_NE(msg.find("the adapter folder"), std::string::npos) << msg;
    EXPECT_EQ(std::distance(fs::directory_iterator(base), fs::directory_iterator()), files_before);
    EXPECT_TRUE(fs::exists(tmp.path / "adapter/adapter_model.safetensors"));
    // an earlier Tunebench export is replaced whole, with no leftovers beside it
    export_merged_model(args(tmp.path / "merged", base.string()));
    io::write_text_atomically(tmp.path / "merged/stale.txt", "old");
    export_merged_model(args(tmp.path / "merged", base.string()));
    EXPECT_FALSE(fs::exists(tmp.path / "merged/stale.txt"));
    EXPECT_TRUE(fs::exists(tmp.path / "merged/config.json"));
    for (const auto& e : fs::directory_iterator(tmp.path))
        EXPECT_EQ(e.path().filename().string().find(".merged"), std::string::npos) << e.path();
    // the leftover of an export killed mid-write is replaced; a user's folder of that name is not
    fs::create_directories(tmp.path / ".merged.partial");
    io::write_text_atomically(tmp.path / ".merged.partial/.tunebench-export-partial", "");
    export_merged_model(args(tmp.path / "merged", base.string()));
    EXPECT_FALSE(fs::exists(tmp.path / ".merged.partial"));
    fs::create_directories(tmp.path / ".merged.partial");
    io::write_text_atomically(tmp.path / ".merged.partial/mine.txt", "keep");
    msg = test::error_of([&] { export_merged_model(args(tmp.path / "merged", base.string())); });
    EXPECT_NE(msg.find("was not written by an export"), std::string::npos) << msg;
    EXPECT_EQ(test::slurp(tmp.path / ".merged.partial/mine.txt"), "keep");
    fs::remove_all(tmp.path / ".merged.partial");
    // killed between the swap's two renames: the earlier export is under .merged.replaced only;
    // a failing rerun (no such adapter) must leave it back in place, not delete it
    fs::rename(tmp.path / "merged", tmp.path / ".merged.replaced");
    auto bad_adapter = args(tmp.path / "merged", base.string());
    bad_adapter.adapter_name_or_path = (tmp.path / "no_such_adapter").string();
    EXPECT_NE(test::error_of([&] { export_merged_model(bad_adapter); }), "no error");
    EXPECT_TRUE(fs::exists(tmp.path / "merged/config.json") || fs::exists(tmp.path / ".merged.replaced/config.json"));
    export_merged_model(args(tmp.path / "merged", base.string()));
    EXPECT_TRUE(fs::exists(tmp.path / "merged/config.json"));
    EXPECT_FALSE(fs::exists(tmp.path / ".merged.replaced"));
}

// Training refuses, before anything is written or removed: output_dir = the model folder, and an
// overwrite whose new run cannot start (a misspelt dataset) leaves the earlier run whole.
TEST(Training, BadRunsNeverTouchTheModelOrTheEarlierRun) {
    test::TempDir out;
    const fs::path model = demo_dir() / "model";
    const auto readme_before = fs::exists(model / "README.md") ? test::slurp(model / "README.md") : std::string("-");
    auto msg = test::error_of([&] { run_training(demo_args(model, {{"max_steps", "1"}})); });
    EXPECT_NE(msg.find("is the model folder"), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(model / "adapter_config.json"));
    EXPECT_EQ(fs::exists(model / "README.md") ? test::slurp(model / "README.md") : std::string("-"), readme_before);

    run_training(demo_args(out.path, {{"max_steps", "2"}, {"save_steps", "1"}}));
    ASSERT_TRUE(fs::exists(out.path / "checkpoint-2"));
    const auto adapter_before = test::slurp(out.path / "adapter_model.safetensors");
    msg = test::error_of([&] {
        run_training(demo_args(out.path, {{"max_steps", "2"}, {"overwrite_output_dir", "true"}, {"dataset", "tunebench_dmeo"}}));
    });
    EXPECT_NE(msg.find("tunebench_dmeo"), std::string::npos) << msg;
    EXPECT_TRUE(fs::exists(out.path / "checkpoint-1"));
    EXPECT_TRUE(fs::exists(out.path / "checkpoint-2"));
    EXPECT_EQ(test::slurp(out.path / "adapter_model.safetensors"), adapter_before);
}

// nan / inf and out-of-range numbers are refused where they are read, naming the key.
TEST(Training, NonFiniteAndOutOfRangeNumbersAreRefused) {
    test::TempDir out;
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"learning_rate", "nan"}, {"learning_rate", "inf"}, {"learning_rate", "1e39"}, {"lora_dropout", "NaN"}, {"warmup_ratio", "1.5"},
             {"max_grad_norm", "-1"}, {"adam_beta2", "1"}, {"weight_decay", "-0.1"}, {"lora_rank", "0"}}) {
        auto msg = test::error_of([&] { demo_args(out.path, {{key, value}}); });
        EXPECT_NE(msg.find(key), std::string::npos) << key << "=" << value << ": " << msg;
    }
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"top_p", "nan"}, {"temperature", "inf"}, {"repetition_penalty", "nan"}}) {
        auto msg = test::error_of([&] {
            InferenceArgs::from_map({{"model_name_or_path", (demo_dir() / "model").string()}, {key, value}});
        });
        EXPECT_NE(msg.find(key), std::string::npos) << key << "=" << value << ": " << msg;
    }
}

// An adapter whose r is 0 (alpha/r infinite: a model full of NaN) or negative (a flipped update) is
// refused when it loads, naming the file.
TEST(Training, AdapterWithZeroOrNegativeRankIsRefused) {
    test::TempDir tmp;
    run_training(demo_args(tmp.path / "good", {{"max_steps", "1"}}));
    for (const char* r : {"0", "-8", "2.5"}) {
        fs::remove_all(tmp.path / "bad");
        fs::copy(tmp.path / "good", tmp.path / "bad", fs::copy_options::recursive);
        auto cfg = nlohmann::json::parse(test::slurp(tmp.path / "bad/adapter_config.json"));
        cfg["r"] = nlohmann::json::parse(r);
        io::write_text_atomically(tmp.path / "bad/adapter_config.json", cfg.dump());
        auto model = Model::load(demo_dir() / "model", {.dtype = "float32", .device = "cpu"});
        auto msg = test::error_of([&] { load_lora(*model, tmp.path / "bad"); });
        EXPECT_NE(msg.find("'r' should be a positive whole number"), std::string::npos) << r << ": " << msg;
        EXPECT_NE(msg.find("adapter_config.json"), std::string::npos) << msg;
    }
}

// Issue 16 item 14: what an interrupted run leaves behind. Temporaries whose writer is gone are
// removed, those of a live process (or unknown files) are kept; a fresh start after a run that
// never reached a checkpoint does not keep its stale log lines; the tokenizer copy is atomic.
TEST(Training, LeftoversOfAnInterruptedRunAreCleanedAndNothingElse) {
    test::TempDir tmp;
    const fs::path out = tmp.path / "run";
    fs::create_directories(out);
    auto touch = [&](const std::string& name) { io::write_text_atomically(out / name, "x"); };
    touch("adapter_model.safetensors.tmp-999999999-17");                          // writer gone
    touch("trainer_state.json.tmp-" + std::to_string(::getpid()) + "-3");        // writer alive
    touch("old.json.tmp-42");                                                    // older naming, fresh
    touch("notes.tmp-draft");                                                    // not Tunebench's
    touch("trainer_log.jsonl");
    io::write_text_atomically(out / "trainer_log.jsonl", "{\"current_steps\": 9999, \"loss\": 1.0}\n");
    run_training(demo_args(out, {{"max_steps", "3"}, {"logging_steps", "1"}}));
    EXPECT_FALSE(fs::exists(out / "adapter_model.safetensors.tmp-999999999-17"));
    EXPECT_TRUE(fs::exists(out / ("trainer_state.json.tmp-" + std::to_string(::getpid()) + "-3")));
    EXPECT_TRUE(fs::exists(out / "old.json.tmp-42"));
    EXPECT_TRUE(fs::exists(out / "notes.tmp-draft"));
    const std::string log = test::slurp(out / "trainer_log.jsonl");
    EXPECT_EQ(log.find("9999"), std::string::npos) << log;
    EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 3);
    // an older-style temporary untouched for an hour is an orphan too
    fs::last_write_time(out / "old.json.tmp-42", fs::file_time_type::clock::now() - std::chrono::hours(1));
    EXPECT_EQ(io::remove_orphan_temporaries(out), 1);
    EXPECT_FALSE(fs::exists(out / "old.json.tmp-42"));
    EXPECT_EQ(test::slurp(out / "tokenizer.model"), test::slurp(demo_dir() / "model" / "tokenizer.model"));
}

// io::remove_tree (what a second run into the same output_dir uses instead of
// std::filesystem::remove_all): removes a folder with everything in it, follows no symbolic link,
// accepts a missing path, and leaves the folder's siblings alone.
TEST(Training, RemoveTreeRemovesAFolderAndFollowsNoLink) {
    test::TempDir tmp;
    const fs::path outside = tmp.path / "outside", tree = tmp.path / "run" / "checkpoint-2";
    fs::create_directories(outside);
    io::write_text_atomically(outside / "keep.txt", "user data");
    fs::create_directories(tree / "a" / "b");
    io::write_text_atomically(tree / "a" / "b" / "deep.bin", "x");
    io::write_text_atomically(tree / "top.json", "{}");
    fs::create_directory_symlink(outside, tree / "link-to-outside");
    fs::create_symlink(outside / "keep.txt", tree / "a" / "file-link");
    io::write_text_atomically(tmp.path / "run" / "sibling.txt", "stays");
    io::remove_tree(tree);
    EXPECT_FALSE(fs::exists(fs::symlink_status(tree)));
    EXPECT_EQ(test::slurp(outside / "keep.txt"), "user data");  // links removed, not followed
    EXPECT_EQ(test::slurp(tmp.path / "run" / "sibling.txt"), "stays");
    EXPECT_NO_THROW(io::remove_tree(tree));                      // gone already: fine
    io::remove_tree(tmp.path / "run" / "sibling.txt");           // a plain file
    EXPECT_FALSE(fs::exists(tmp.path / "run" / "sibling.txt"));
    std::error_code ec;
    io::remove_tree(tmp.path / "run", ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_FALSE(fs::exists(tmp.path / "run"));
}
