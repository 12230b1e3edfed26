// A PEFT-layout LoRA adapter merged at load gives the logits of base weights updated by hand
// (W + B·A·alpha/r); an adapter for another model is a clear error.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/lora_adapter.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "io/tensor_io.h"
#include "model/decoder.h"
#include "test_support.h"

using namespace tb;

namespace {
void write_adapter(const std::filesystem::path& dir, const io::NamedTensors& t, int r, int alpha) {
    std::filesystem::create_directories(dir);
    io::save_safetensors(dir / "adapter_model.safetensors", t);
    nlohmann::json cfg = {{"peft_type", "LORA"}, {"r", r}, {"lora_alpha", alpha}, {"target_modules", {"q_proj", "v_proj"}},
                          {"use_rslora", false}, {"fan_in_fan_out", false}, {"task_type", "CAUSAL_LM"}};
    io::write_text_atomically(dir / "adapter_config.json", cfg.dump(2));
}
}  // namespace

TEST(LoraMerge, EqualsHandUpdatedWeights) {
    test::TempDir dir;
    auto base = Model::random(test::tiny_config("llama"), 3);
    base->save(dir.path / "base");
    auto g = at::detail::createCPUGenerator(8);
    auto A0 = at::randn({2, 32}, g), B0 = at::randn({32, 2}, g);      // layer 0 q_proj: out 32
    auto A1 = at::randn({2, 32}, g), B1 = at::randn({16, 2}, g);      // layer 1 v_proj: out 16
    write_adapter(dir.path / "adapter",
                  {{"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", A0},
                   {"base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", B0},
                   {"base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight", A1},
                   {"base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight", B1}},
                  2, 4);
    auto merged = Model::load(dir.path / "base", {.dtype = "float32", .device = "cpu"});
    auto report = merge_lora_adapter(*merged, dir.path / "adapter");
    EXPECT_EQ(report.merged_modules, 2);
    EXPECT_DOUBLE_EQ(report.scaling, 2.0);

    auto expected = Model::load(dir.path / "base", {.dtype = "float32", .device = "cpu"});
    auto& L = expected->layers();
    L[0].q.weight = L[0].q.weight + at::matmul(B0, A0) * 2.0;
    L[1].v.weight = L[1].v.weight + at::matmul(B1, A1) * 2.0;
    auto ids = at::tensor(std::vector<int64_t>{1, 5, 9, 13}).unsqueeze(0);
    auto a = merged->forward(ids, nullptr), b = expected->forward(ids, nullptr);
    EXPECT_TRUE(at::allclose(a, b, 1e-5, 1e-5));
    EXPECT_FALSE(at::allclose(a, base->forward(ids, nullptr), 1e-3, 1e-3));  // the adapter matters
}

TEST(LoraMerge, AdapterForAnotherModelIsAClearError) {
    test::TempDir dir;
    auto base = Model::random(test::tiny_config("llama"), 3);
    write_adapter(dir.path / "wrong",
                  {{"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", at::zeros({2, 64})},
                   {"base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", at::zeros({32, 2})}},
                  2, 4);
    try {
        merge_lora_adapter(*base, dir.path / "wrong");
        FAIL();
    } catch (const FileError& e) {
        EXPECT_NE(std::string(e.what()).find("do not fit"), std::string::npos) << e.what();
    }
    write_adapter(dir.path / "glm",
                  {{"base_model.model.transformer.encoder.layers.0.self_attention.query_key_value.lora_A.weight", at::zeros({2, 32})},
                   {"base_model.model.transformer.encoder.layers.0.self_attention.query_key_value.lora_B.weight", at::zeros({64, 2})}},
                  2, 4);
    EXPECT_THROW(merge_lora_adapter(*base, dir.path / "glm"), FileError);
    EXPECT_THROW(merge_lora_adapter(*base, dir.path / "missing"), FileError);
}
