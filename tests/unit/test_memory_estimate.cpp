// The estimate's LoRA counts against MODELS.md §5.2 (real ChatGLM3-6B config) and its arithmetic
// against the config: bf16 weights = 2 bytes × parameters; NF4 shrinks the linears about 3.9×.
#include <gtest/gtest.h>

#include "model/model_config.h"
#include "test_support.h"
#include "demo/demo_model.h"
#include "infer/inference_args.h"
#include "train/memory_estimate.h"
#include "train/trainer.h"

using namespace tb;

TEST(MemoryEstimate, LoraCountsAndWeightBytesForChatGLM3) {
    const auto dir = (test::models_dir() / "chatglm3-6b-tokenizer").string();
    EXPECT_EQ(lora_parameter_count(dir, "query_key_value", 8), 1949696);
    EXPECT_EQ(lora_parameter_count(dir, "all", 8), 14823424);
    auto args = TrainingArgs::from_map({{"model_name_or_path", dir}, {"dataset", "d"}, {"output_dir", "o"}, {"bf16", "true"},
                                        {"lora_target", "query_key_value"}, {"device", "cpu"},
                                        {"per_device_train_batch_size", "4"}, {"cutoff_len", "1024"}});
    auto e = estimate_training_memory(args);
    const auto params = ModelConfig::from_folder(dir).parameter_count();
    EXPECT_EQ(e.weight_bytes, 2 * params);
    EXPECT_EQ(e.trainable_params, 1949696);
    EXPECT_EQ(e.optimizer_bytes, 16 * 1949696);
    EXPECT_GT(e.activation_bytes, 0);
    EXPECT_GT(e.available_bytes, 0);  // MemAvailable on CPU
    args.quantization_bit = 4;
    auto q = estimate_training_memory(args);
    EXPECT_LT(q.weight_bytes, e.weight_bytes / 2);
    EXPECT_GT(q.weight_bytes, e.weight_bytes / 5);
    args.gradient_checkpointing = false;
    const auto none = estimate_training_memory(args);
    EXPECT_GT(none.activation_bytes, q.activation_bytes);  // checkpointing saves memory
    args.gradient_checkpointing = true;
    args.gradient_checkpointing_scope = "mlp";  // recomputing only the MLPs saves part of it
    const auto mlp = estimate_training_memory(args);
    EXPECT_GT(mlp.activation_bytes, q.activation_bytes);
    EXPECT_LT(mlp.activation_bytes, none.activation_bytes);
}

// Attention's cutoff_len² memory, against peak RSS measured on this project's CPU machine
// (Debian 12, LibTorch 2.11, 2026-11-25): `tunebench-cli train` of the demo (LoRA all, fp32,
// batch 2 of two 12.5k-token rows, max_steps 1) — eager attention without gradient checkpointing
// 21,032,048 KB, with it 15,813,192 KB; fused attention on a padded pair 1,499,740 KB.
TEST(MemoryEstimate, AttentionsQuadraticTermMatchesMeasuredPeaks) {
    test::TempDir tmp;
    init_demo(tmp.path);
    auto args = TrainingArgs::from_map({{"model_name_or_path", (tmp.path / "model").string()}, {"dataset", "d"},
                                        {"output_dir", "o"}, {"device", "cpu"}, {"per_device_train_batch_size", "2"},
                                        {"cutoff_len", "12500"}, {"flash_attn", "disabled"}});
    args.gradient_checkpointing = false;
    const double kib = 1024;
    // a planning number: it may err high, never much low
    auto within = [](double estimate, double measured) { return estimate >= 0.9 * measured && estimate <= 1.5 * measured; };
    auto eager = estimate_training_memory(args);
    EXPECT_TRUE(within(eager.total_bytes, 21032048 * kib)) << eager.total_bytes;
    EXPECT_GT(eager.attention_bytes, eager.total_bytes * 0.9);
    args.gradient_checkpointing = true;
    EXPECT_TRUE(within(estimate_training_memory(args).total_bytes, 15813192 * kib));
    args.flash_attn = "auto";
    args.gradient_checkpointing = false;
    EXPECT_TRUE(within(estimate_training_memory(args).total_bytes, 1499740 * kib)) << estimate_training_memory(args).total_bytes;
}

TEST(MemoryEstimate, ACpuRunPastTheFreeMemoryIsRefusedBeforeAnythingIsWritten) {
    test::TempDir tmp;
    init_demo(tmp.path);
    ArgMap m = read_yaml_args(tmp.path / "train_lora.yaml");
    m["output_dir"] = (tmp.path / "huge").string();
    m["cutoff_len"] = "200000";  // eager attention: ~2.6 TB of scores
    m["flash_attn"] = "disabled";
    m["device"] = "cpu";
    const auto e = test::error_of<ConfigError>([&] { run_training(TrainingArgs::from_map(m)); });
    EXPECT_NE(e.find("would swap or be killed"), std::string::npos) << e;
    EXPECT_NE(e.find("flash_attn auto"), std::string::npos) << e;
    EXPECT_FALSE(std::filesystem::exists(tmp.path / "huge"));
}
