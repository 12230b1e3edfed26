// AdaLoRA's config and schedule against FORMATS.md §5's verified facts; the allocator, adapters and
// training against PEFT are tests/reference/test_adalora.py.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/adalora_allocator.h"
#include "adapters/lora_config.h"
#include "core/error.h"

using namespace tb;

TEST(AdaLora, BudgetScheduleOfTheVerifiedRun) {
    LoraConfig c;  // tiny Llama, 4 adapted matrices, init_r 6, target_r 2, tinit 1, tfinal 2, total_step 6
    c.tinit = 1;
    c.tfinal = 2;
    c.total_step = 6;
    const int64_t expected[6] = {24, 24, 12, 8, 8, 8};
    for (int64_t s = 0; s < 6; ++s) {
        EXPECT_EQ(adalora_budget(s, 24, 8, c).first, expected[s]) << "step " << s;
        EXPECT_EQ(adalora_budget(s, 24, 8, c).second, s >= 2) << "step " << s;
    }
}

TEST(AdaLora, ConfigRoundTripsWithItsRankPatternAndScale) {
    LoraConfig c;
    c.adalora = true;
    c.alpha = 16;
    c.init_r = 6;
    c.target_r = 2;
    c.total_step = 12;
    c.target_modules = {"q_proj", "v_proj"};
    c.rank_pattern["model.layers.0.self_attn.q_proj.lora_E"] = {true, false, true, false, false, false};
    const auto j = nlohmann::json::parse(c.to_json());
    EXPECT_EQ(j["peft_type"], "ADALORA");
    EXPECT_EQ(j["rank_pattern"]["model.layers.0.self_attn.q_proj.lora_E"][1], false);
    const LoraConfig back = LoraConfig::from_json(j, "adapter_config.json");
    EXPECT_TRUE(back.adalora);
    EXPECT_EQ(back.init_r, 6);
    EXPECT_EQ(back.rank_pattern, c.rank_pattern);
    EXPECT_DOUBLE_EQ(back.scaling(), 16.0 / (6 + 1e-5));  // alpha / (ranknum + 1e-5), ranknum = init_r forever
    auto bad = j;
    bad["rank_pattern"]["model.layers.0.self_attn.q_proj.lora_E"] = {true, false};  // not init_r long
    EXPECT_THROW(LoraConfig::from_json(bad, "adapter_config.json"), ConfigError);
}
