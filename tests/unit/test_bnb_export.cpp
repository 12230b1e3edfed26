// The bitsandbytes 4-bit export (export_quantization_bit 4) and reading such checkpoints back
// (transformers and bitsandbytes themselves check the files in tests/reference/test_bnb_export.py):
// the export merges, quantizes, and its check passes; Tunebench loads it with the linears still
// 4-bit; a 4-bit base is refused as an export source; the shards keep a weight's parts together.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "adapters/lora_adapter.h"
#include "core/arg_values.h"
#include "core/error.h"
#include "demo/demo_model.h"
#include "export/gguf_export.h"
#include "export/merge_export.h"
#include "io/atomic_file.h"
#include "io/sharded_writer.h"
#include "model/decoder.h"
#include "model/quantization.h"
#include "random_lora.h"
#include "test_support.h"

using namespace tb;
namespace fs = std::filesystem;

TEST(BnbExport, ArgumentsSayWhatEachBitWidthWrites) {
    ArgMap m = {{"model_name_or_path", "base"}, {"export_dir", "out"}, {"export_quantization_bit", "3"}};
    EXPECT_NE(test::error_of<ConfigError>([&] { ExportArgs::from_map(m); }).find("export_quantization_bit"), std::string::npos);
    m["export_quantization_bit"] = "8";  // safetensors: bitsandbytes LLM.int8
    EXPECT_EQ(ExportArgs::from_map(m).export_quantization_bit, 8);
    m["export_format"] = "gguf";  // 8 bits in GGUF: Q8_0; 4: Q4_K_M; an explicit type wins
    EXPECT_EQ(ExportArgs::from_map(m).export_gguf_type, "Q8_0");
    m["export_quantization_bit"] = "4";
    EXPECT_EQ(ExportArgs::from_map(m).export_gguf_type, "Q4_K_M");
    m["export_gguf_type"] = "Q4_0";
    EXPECT_EQ(ExportArgs::from_map(m).export_gguf_type, "Q4_0");
}

// The demo model and a random LoRA adapter in `tmp`, merged and exported with
// export_quantization_bit `bits` to `out`; the export's arguments.
static ArgMap export_demo_quantized(const test::TempDir& tmp, const fs::path& out, int bits) {
    init_demo(tmp.path / "demo");
    const fs::path base = tmp.path / "demo" / "model", adapter = tmp.path / "adapter";
    test::save_random_lora(base, adapter);
    ArgMap m = {{"model_name_or_path", base.string()}, {"adapter_name_or_path", adapter.string()},
                {"export_dir", out.string()}, {"export_quantization_bit", std::to_string(bits)}};
    export_merged_model(ExportArgs::from_map(m));
    return m;
}

// The export's check passes (its logits equal base + adapter merged and quantized here) and it
// loads back quantized as `kind`, not dense.
static void expect_checked_and_loaded_quantized(const ArgMap& m, const fs::path& out, QuantizedWeight::Kind kind) {
    const auto c = verify_export(ExportArgs::from_map(m), {"你好", "Tunebench 是什么？"});
    EXPECT_TRUE(c.ok) << c.max_abs_diff << " > " << c.tolerance;
    auto loaded = Model::load(out, {.dtype = "float32", .device = "cpu"});
    ASSERT_FALSE(loaded->linears().empty());
    for (Linear* l : loaded->linears()) {
        ASSERT_TRUE(l->quant) << l->name;
        EXPECT_EQ(l->quant->kind, kind) << l->name;
        EXPECT_FALSE(l->weight.defined()) << l->name;
    }
}

TEST(BnbExport, MergesQuantizesReloadsFourBitAndRefusesToQuantizeAgain) {
    test::TempDir tmp;
    const fs::path out = tmp.path / "nf4";
    const ArgMap m = export_demo_quantized(tmp, out, 4);
    const auto config = nlohmann::json::parse(io::read_file(out / "config.json"));
    EXPECT_EQ(config["quantization_config"]["quant_method"], "bitsandbytes");
    EXPECT_EQ(config["quantization_config"]["bnb_4bit_quant_type"], "nf4");
    expect_checked_and_loaded_quantized(m, out, QuantizedWeight::Kind::NF4);
    // a 4-bit model is not an export source, in either format; nothing is written
    ArgMap again = {{"model_name_or_path", out.string()}, {"export_dir", (tmp.path / "again").string()}};
    EXPECT_NE(test::error_of<UnsupportedError>([&] { export_merged_model(ExportArgs::from_map(again)); }).find("4-bit"),
              std::string::npos);
    again["export_format"] = "gguf";
    EXPECT_NE(test::error_of<UnsupportedError>([&] { export_gguf(ExportArgs::from_map(again)); }).find("4-bit"), std::string::npos);
    EXPECT_FALSE(fs::exists(tmp.path / "again"));
    // a damaged component is named
    const auto weights = io::load_safetensors(out / "model.safetensors");
    io::NamedTensors cut;
    for (const auto& [k, t] : weights)
        if (k.find("layers.0.mlp.dense_h_to_4h.weight.absmax") == std::string::npos) cut.emplace_back(k, t);
    io::save_safetensors(out / "model.safetensors", cut);
    EXPECT_NE(test::error_of<FileError>([&] { Model::load(out, {.dtype = "float32", .device = "cpu"}); })
                  .find("dense_h_to_4h.weight.absmax"),
              std::string::npos);
}

TEST(BnbExport, MergesQuantizesReloadsEightBitAndRefusesToQuantizeAgain) {
    test::TempDir tmp;
    const fs::path out = tmp.path / "int8";
    const ArgMap m = export_demo_quantized(tmp, out, 8);
    const auto config = nlohmann::json::parse(io::read_file(out / "config.json"));
    EXPECT_EQ(config["quantization_config"]["quant_method"], "bitsandbytes");
    EXPECT_EQ(config["quantization_config"]["load_in_8bit"], true);
    // transformers' keys: the weight as int8 rows, the module's SCB (row absmax) and weight_format 0
    const auto weights = io::load_safetensors(out / "model.safetensors");
    std::map<std::string, at::Tensor> by_name(weights.begin(), weights.end());
    const std::string module = "transformer.encoder.layers.0.mlp.dense_h_to_4h";
    ASSERT_TRUE(by_name.count(module + ".weight") && by_name.count(module + ".SCB") && by_name.count(module + ".weight_format"));
    EXPECT_EQ(by_name[module + ".weight"].scalar_type(), at::kChar);
    EXPECT_EQ(by_name[module + ".SCB"].numel(), by_name[module + ".weight"].size(0));
    EXPECT_EQ(by_name[module + ".weight_format"].dim(), 0);
    EXPECT_EQ(by_name[module + ".weight_format"].item<int64_t>(), 0);
    expect_checked_and_loaded_quantized(m, out, QuantizedWeight::Kind::Int8);
    // an 8-bit model is not an export source; nothing is written
    ArgMap again = {{"model_name_or_path", out.string()}, {"export_dir", (tmp.path / "again").string()}};
    EXPECT_NE(test::error_of<UnsupportedError>([&] { export_merged_model(ExportArgs::from_map(again)); }).find("8-bit"),
              std::string::npos);
    EXPECT_FALSE(fs::exists(tmp.path / "again"));
    // a missing SCB is named
    io::NamedTensors cut;
    for (const auto& [k, t] : weights)
        if (k != module + ".SCB") cut.emplace_back(k, t);
    io::save_safetensors(out / "model.safetensors", cut);
    EXPECT_NE(test::error_of<FileError>([&] { Model::load(out, {.dtype = "float32", .device = "cpu"}); }).find("dense_h_to_4h"),
              std::string::npos);
}

TEST(BnbExport, ShardsKeepAWeightsPartsTogether) {
    test::TempDir tmp;
    io::NamedTensors t = {{"a.weight", at::zeros({100}, at::kByte)},
                          {"a.weight.absmax", at::zeros({100}, at::kByte)},
                          {"a.weight.quant_map", at::zeros({16}, at::kFloat)},
                          {"b.weight", at::zeros({100}, at::kByte)}};
    io::save_sharded(tmp.path, t, 120);  // a.weight alone fills a shard
    const auto index = nlohmann::json::parse(io::read_file(tmp.path / "model.safetensors.index.json"));
    const auto& map = index["weight_map"];
    EXPECT_EQ(map["a.weight.absmax"], map["a.weight"]);
    EXPECT_EQ(map["a.weight.quant_map"], map["a.weight"]);
    EXPECT_NE(map["b.weight"], map["a.weight"]);
    // 8-bit: the module's SCB and weight_format go with its weight
    io::NamedTensors t8 = {{"a.weight", at::zeros({100}, at::kChar)},
                           {"a.SCB", at::zeros({10}, at::kFloat)},
                           {"a.weight_format", at::zeros({}, at::kByte)},
                           {"b.weight", at::zeros({100}, at::kChar)}};
    test::TempDir tmp8;
    io::save_sharded(tmp8.path, t8, 110);
    const auto index8 = nlohmann::json::parse(io::read_file(tmp8.path / "model.safetensors.index.json"));
    EXPECT_EQ(index8["weight_map"]["a.SCB"], index8["weight_map"]["a.weight"]);
    EXPECT_EQ(index8["weight_map"]["a.weight_format"], index8["weight_map"]["a.weight"]);
    EXPECT_NE(index8["weight_map"]["b.weight"], index8["weight_map"]["a.weight"]);
}
