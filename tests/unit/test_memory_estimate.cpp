// The estimate's LoRA counts against MODELS.md §5.2 (real ChatGLM3-6B config) and its arithmetic
// against the config: bf16 weights = 2 bytes × parameters; NF4 shrinks the linears about 3.9×.
#include <gtest/gtest.h>

#include "model/model_config.h"
#include "test_support.h"
#include "train/memory_estimate.h"

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
    EXPECT_GT(estimate_training_memory(args).activation_bytes, q.activation_bytes);  // checkpointing saves memory
}
