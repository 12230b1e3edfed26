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

// The adapter switch is an argument of the forward, not a thread's state: the same unmerged model
// answers as base (adapters = false) and as tuned (merged weights) in one thread, interleaved.
TEST(LoraMerge, AdaptersOffIsPerCallNotPerThread) {
    for (const char* arch : {"chatglm", "llama"}) {
        auto base = Model::random(test::tiny_config(arch), 5);
        auto tuned = Model::random(test::tiny_config(arch), 5);
        LoraConfig cfg;
        cfg.r = 2;
        cfg.alpha = 4;
        cfg.target_modules = resolve_lora_targets(*tuned, "all");
        attach_lora(*tuned, cfg, 1);
        auto g = at::detail::createCPUGenerator(9);
        for (Linear* l : tuned->linears())
            if (l->lora) l->lora->B = at::randn(l->lora->B.sizes(), g) * 0.5;  // B = 0 would change nothing
        auto merged = Model::random(test::tiny_config(arch), 5);
        attach_lora(*merged, cfg, 1);
        for (size_t i = 0; i < merged->linears().size(); ++i)
            if (merged->linears()[i]->lora) merged->linears()[i]->lora->B = tuned->linears()[i]->lora->B;
        merge_lora(*merged);

        auto ids = at::tensor(std::vector<int64_t>{1, 5, 9, 13, 2}).unsqueeze(0);
        const auto want_base = base->forward(ids, nullptr), want_tuned = merged->forward(ids, nullptr);
        ASSERT_FALSE(at::allclose(want_base, want_tuned, 1e-3, 1e-3)) << arch << ": the adapter changes nothing";
        for (int round = 0; round < 2; ++round) {
            EXPECT_TRUE(at::allclose(tuned->forward(ids, nullptr, {.adapters = false}), want_base, 1e-6, 1e-6)) << arch;
            EXPECT_TRUE(at::allclose(tuned->forward(ids, nullptr), want_tuned, 1e-4, 1e-4)) << arch;
        }
        // the decode path (forward_with, as a DecodeContext calls it) takes the same switch
        auto positions = at::arange(5, at::kLong).unsqueeze(0);
        const Model::AttendFn plain = [](size_t, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
            return attention(q, k, v, {}, AttentionKernel::Eager);
        };
        EXPECT_TRUE(at::allclose(tuned->forward_with(ids, positions, plain, false, /*adapters=*/false), want_base,
                                 1e-5, 1e-5)) << arch;
        EXPECT_TRUE(at::allclose(tuned->forward_with(ids, positions, plain, false), want_tuned, 1e-4, 1e-4)) << arch;
    }
}
