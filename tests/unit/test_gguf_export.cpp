// GGUF export's refusals and the writer's rules (the files themselves are checked by gguf-py and
// llama.cpp in tests/reference/test_gguf_export.py): what cannot be written is a clear error and
// nothing is left behind; a folder the user made is never replaced.
#include <gtest/gtest.h>

#include <fstream>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "adapters/lora_adapter.h"
#include "core/error.h"
#include "model/decoder.h"
#include "demo/demo_model.h"
#include "export/gguf_export.h"
#include "infer/benchmark.h"
#include "infer/chat_session.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "io/gguf_writer.h"
#include "random_lora.h"
#include "test_support.h"

using namespace tb;
namespace fs = std::filesystem;

TEST(GgufExport, RefusesWhatItCannotWriteAndLeavesNothing) {
    test::TempDir tmp;
    // a byte-level BPE whose pre-tokenizer llama.cpp has no name for (GPT-2's): llama.cpp would
    // split its text with another regex, so it is refused
    fs::create_directories(tmp.path / "qwen");
    std::ofstream(tmp.path / "qwen" / "config.json") << test::tiny_config("qwen2").to_json_text();
    std::ofstream(tmp.path / "qwen" / "tokenizer.json")
        << R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]},
              "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}, "added_tokens": []})";
    ArgMap m = {{"model_name_or_path", (tmp.path / "qwen").string()}, {"export_dir", (tmp.path / "out").string()},
                {"export_format", "gguf"}};
    EXPECT_NE(test::error_of<UnsupportedError>([&] { export_gguf(ExportArgs::from_map(m)); }).find("not one llama.cpp knows"),
              std::string::npos);
    EXPECT_FALSE(fs::exists(tmp.path / "out"));
    m["export_gguf_type"] = "Q3_K";
    EXPECT_NE(test::error_of<ConfigError>([&] { ExportArgs::from_map(m); }).find("export_gguf_type"), std::string::npos);
    m["export_gguf_type"] = "Q8_0";
    m["export_format"] = "onnx";
    EXPECT_NE(test::error_of<ConfigError>([&] { ExportArgs::from_map(m); }).find("export_format"), std::string::npos);
    // a folder of the user's is refused before anything is loaded
    m["export_format"] = "gguf";
    m["model_name_or_path"] = (test::models_dir() / "stories260K-hf").string();
    fs::create_directories(tmp.path / "out");
    std::ofstream(tmp.path / "out" / "notes.txt") << "mine";
    EXPECT_THROW(export_gguf(ExportArgs::from_map(m)), ConfigError);
    EXPECT_TRUE(fs::exists(tmp.path / "out" / "notes.txt"));
    // the ChatGLM demo exports (into a new folder) and a second export replaces the first
    init_demo(tmp.path / "demo");
    m["model_name_or_path"] = (tmp.path / "demo" / "model").string();
    m["export_dir"] = (tmp.path / "gguf").string();
    const auto first = export_gguf(ExportArgs::from_map(m));
    EXPECT_TRUE(fs::exists(first.file));
    // with Ollama's Modelfile beside it (its prompts are checked in tests/reference)
    std::ifstream modelfile(tmp.path / "gguf" / "Modelfile");
    const std::string text((std::istreambuf_iterator<char>(modelfile)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("FROM ./" + first.file.filename().string() + "\n"), std::string::npos) << text;
    EXPECT_NE(text.find("PARAMETER stop \"<|user|>\"\n"), std::string::npos) << text;
    m["export_gguf_type"] = "F16";
    const auto second = export_gguf(ExportArgs::from_map(m));
    EXPECT_TRUE(fs::exists(second.file));
    EXPECT_FALSE(fs::exists(first.file));
    // a GGUF export given back as the model is named as such, not quantized again
    m["model_name_or_path"] = (tmp.path / "gguf").string();
    m["export_dir"] = (tmp.path / "again").string();
    EXPECT_NE(test::error_of<UnsupportedError>([&] { export_gguf(ExportArgs::from_map(m)); }).find("is a GGUF model"), std::string::npos);
    m["export_format"] = "safetensors";
    EXPECT_NE(test::error_of<UnsupportedError>([&] { export_merged_model(ExportArgs::from_map(m)); }).find("is a GGUF model"),
              std::string::npos);
    EXPECT_FALSE(fs::exists(tmp.path / "again"));
}

// The check after writing reads the file back: an export with the adapter merged agrees with
// base + adapter (F32 to 1e-4 of the logit scale, Q8_0 by its greedy tokens); the same check of a
// file exported without the adapter fails.
TEST(GgufExport, TheFileReadBackAgreesWithBasePlusAdapter) {
    test::TempDir tmp;
    init_demo(tmp.path / "demo");
    const fs::path base = tmp.path / "demo" / "model", adapter = tmp.path / "adapter";
    test::save_random_lora(base, adapter);
    const std::vector<std::string> prompts = {"你好", "Tunebench 是什么？"};
    ArgMap m = {{"model_name_or_path", base.string()}, {"adapter_name_or_path", adapter.string()},
                {"export_dir", (tmp.path / "f32").string()}, {"export_format", "gguf"}, {"export_gguf_type", "F32"}};
    const auto f32 = export_gguf(ExportArgs::from_map(m));
    auto c = verify_gguf_export(ExportArgs::from_map(m), f32.file, prompts);
    EXPECT_TRUE(c.ok) << c.max_abs_diff << " > " << c.tolerance;
    EXPECT_LT(c.max_abs_diff, 1e-4 * c.logit_scale);
    EXPECT_EQ(c.greedy_agreement, 1.0);
    m["export_gguf_type"] = "Q8_0";
    m["export_dir"] = (tmp.path / "q8").string();
    const auto q8 = export_gguf(ExportArgs::from_map(m));
    c = verify_gguf_export(ExportArgs::from_map(m), q8.file, prompts);
    EXPECT_TRUE(c.ok) << c.greedy_agreement;
    EXPECT_GT(c.max_abs_diff, 0.0);  // 8 bits are not exact
    // exported without the adapter: the check against base + adapter fails
    ArgMap plain = m;
    plain.erase("adapter_name_or_path");
    plain["export_gguf_type"] = "F32";
    plain["export_dir"] = (tmp.path / "plain").string();
    const auto without = export_gguf(ExportArgs::from_map(plain));
    EXPECT_FALSE(verify_gguf_export(ExportArgs::from_map(m), without.file, prompts).ok);
    // a truncated file is a clear error, not a crash
    fs::resize_file(without.file, fs::file_size(without.file) / 2);
    EXPECT_THROW(verify_gguf_export(ExportArgs::from_map(plain), without.file, prompts), FileError);
}

// A GGUF export is a model Tunebench loads (chat, predict, bench): its folder or the file itself;
// config from the metadata, the weights dequantized, the tokenizer from the vocabulary in the file.
TEST(GgufExport, TunebenchLoadsItsOwnGguf) {
    test::TempDir tmp;
    init_demo(tmp.path / "demo");
    const fs::path base = tmp.path / "demo" / "model";
    ArgMap m = {{"model_name_or_path", base.string()}, {"export_dir", (tmp.path / "f32").string()},
                {"export_format", "gguf"}, {"export_gguf_type", "F32"}};
    const auto f32 = export_gguf(ExportArgs::from_map(m));
    auto original = Model::load(base, {.dtype = "float32", .device = "cpu"});
    auto tok = load_tokenizer(base, &original->config());
    for (const fs::path& path : {tmp.path / "f32", f32.file}) {
        auto loaded = Model::load(path, {.dtype = "float32", .device = "cpu"});
        const auto& c = loaded->config();
        EXPECT_EQ(c.arch, Arch::ChatGLM);
        EXPECT_EQ(c.vocab_size, original->config().vocab_size);
        EXPECT_EQ(c.num_key_value_heads, original->config().num_key_value_heads);
        auto own = load_tokenizer(path, &c);
        // (single spaces: the demo's SentencePiece model collapses repeated spaces, which llama.cpp,
        // and so a GGUF's vocabulary, never does; the released ChatGLM and LLaMA models do not either)
        for (const std::string text : {"你好，Tunebench 是什么？", "Once upon a time, 2026\n"}) {
            EXPECT_EQ(own->encode(text), tok->encode(text)) << text;
            EXPECT_EQ(own->encode_with_prefix(text), tok->encode_with_prefix(text)) << text;
        }
        EXPECT_EQ(detect_template(path, c, *own), "chatglm3");
        const auto ids = at::tensor(tok->encode_with_prefix("Tunebench 是什么？")).unsqueeze(0);
        at::NoGradGuard no_grad;
        const auto x = loaded->forward(ids, nullptr), y = original->forward(ids, nullptr);
        EXPECT_LT((x - y).abs().max().item<double>(), 1e-4 * y.abs().max().item<double>());
    }
    // bench --compare says a quantized GGUF ran dequantized (its speed and memory are the dense
    // model's), naming its block types; a float GGUF or a model folder runs as it says
    EXPECT_EQ(dequantized_note(f32.file, "float32"), "");
    EXPECT_EQ(dequantized_note(base, "float32"), "");
    m["export_gguf_type"] = "Q8_0";
    m["export_dir"] = (tmp.path / "q8").string();
    const auto q8 = export_gguf(ExportArgs::from_map(m));
    for (const fs::path& path : {tmp.path / "q8", q8.file})
        EXPECT_EQ(dequantized_note(path, "bfloat16").rfind("Q8_0 weights dequantized to bfloat16 at load", 0), 0u) << path;
    // chat, generate and predict take the file itself as well as its folder; another file is refused by name
    {
        InferenceArgs args;
        args.model_name_or_path = f32.file.string();
        args.device = "cpu";
        ChatSession session(args);
        EXPECT_EQ(session.model().config().arch, Arch::ChatGLM);
        std::ofstream(tmp.path / "notes.txt") << "not a model";
        args.model_name_or_path = (tmp.path / "notes.txt").string();
        EXPECT_NE(test::error_of<FileError>([&] { ChatSession{args}; }).find("neither a folder nor a .gguf file"), std::string::npos);
        args.model_name_or_path = (tmp.path / "missing.gguf").string();
        EXPECT_NE(test::error_of<FileError>([&] { ChatSession{args}; }).find("does not exist"), std::string::npos);
    }
    // a folder holding two GGUF files is asked which one
    fs::copy_file(f32.file, tmp.path / "f32" / "copy.gguf");
    EXPECT_NE(test::error_of<FileError>([&] { Model::load(tmp.path / "f32", {.dtype = "float32", .device = "cpu"}); })
                  .find("several GGUF files"),
              std::string::npos);
}

TEST(GgufWriter, KeysAndTensorsFollowGgufsRules) {
    io::GgufWriter w;
    w.add_u32("llama.block_count", 2);
    EXPECT_THROW(w.add_u32("llama.block_count", 3), ConfigError);  // llama.cpp refuses duplicate keys
    EXPECT_THROW(w.add_strings("tokenizer.ggml.tokens", {}), ConfigError);  // nor empty arrays
    EXPECT_THROW(w.add_tensor(std::string(64, 'x'), {4}, 0, 16, {}), ConfigError);  // names hold 63 bytes
    w.add_tensor("a", {3}, 0, 12, [] { return std::vector<uint8_t>(12, 1); });
    EXPECT_THROW(w.add_tensor("a", {3}, 0, 12, {}), ConfigError);
    w.add_tensor("b", {2, 5}, 0, 40, [] { return std::vector<uint8_t>(40, 2); });
    test::TempDir tmp;
    w.write(tmp.path / "t.gguf");
    std::ifstream in(tmp.path / "t.gguf", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.substr(0, 4), "GGUF");
    EXPECT_EQ(bytes.size() % io::GgufWriter::kAlignment, 0u);  // padded after the last tensor too
    // tensor "b" starts one aligned slot after "a" (12 bytes → 32), its 40 bytes then padding
    const size_t data_start = bytes.size() - 32 - 64;
    EXPECT_EQ(bytes[data_start], 1);
    EXPECT_EQ(bytes[data_start + 12], 0);
    EXPECT_EQ(bytes[data_start + 32], 2);
    EXPECT_EQ(bytes[data_start + 72], 0);
    io::GgufWriter short_tensor;
    short_tensor.add_tensor("c", {4}, 0, 16, [] { return std::vector<uint8_t>(8); });
    EXPECT_THROW(short_tensor.write(tmp.path / "c.gguf"), Error);
    EXPECT_FALSE(fs::exists(tmp.path / "c.gguf"));  // never half-written
}
