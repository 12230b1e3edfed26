// Loading models: save → load round trip, and bad input (missing files, unknown model_type,
// config/weight shape mismatch, unsupported dtype, missing tokenizer) as clear errors naming
// the file and what was expected.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"
#include "model/decoder.h"
#include "tokenizer/tokenizer.h"
#include "test_support.h"

using namespace tb;

using test::error_of;

TEST(ModelConfig, ChatGLMAliasesAreRead) {
    auto c = ModelConfig::from_folder(test::models_dir() / "chatglm3-6b-tokenizer");
    EXPECT_EQ(c.arch, Arch::ChatGLM);
    EXPECT_EQ(c.num_hidden_layers, 28);
    EXPECT_EQ(c.num_key_value_heads, 2);
    EXPECT_EQ(c.head_dim, 128);
    EXPECT_EQ(c.vocab_size, 65024);
    EXPECT_EQ(c.q_size() + 2 * c.kv_size(), 4608);
    EXPECT_EQ(c.parameter_count(), 6243584000);  // 6,243,584,032 stored minus the 32-element inv_freq buffer
    EXPECT_FALSE(c.glm_rope_in_model_dtype);
    EXPECT_TRUE(ModelConfig::from_folder(test::models_dir() / "chatglm2-6b-tokenizer").glm_rope_in_model_dtype);
    auto q = ModelConfig::from_folder(test::models_dir() / "qwen2-tokenizer");
    EXPECT_EQ(q.arch, Arch::Qwen2);
    EXPECT_TRUE(q.qkv_bias);
    EXPECT_EQ(q.rope_theta, 1000000.0);
    // Qwen3-0.6B's config.json (FORMATS.md §4.1): head_dim 128 with hidden 1024 / 16 heads, q/k norms,
    // no biases; 596,049,920 parameters as transformers counts Qwen3ForCausalLM of this config
    auto q3 = ModelConfig::from_json_text(R"({"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"],
        "vocab_size": 151936, "hidden_size": 1024, "intermediate_size": 3072, "num_hidden_layers": 28,
        "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128, "max_position_embeddings": 40960,
        "rope_theta": 1000000, "rms_norm_eps": 1e-06, "tie_word_embeddings": true, "attention_bias": false,
        "use_sliding_window": false, "bos_token_id": 151643, "eos_token_id": 151645, "torch_dtype": "bfloat16"})",
                                          "qwen3/config.json");
    EXPECT_EQ(q3.arch, Arch::Qwen3);
    EXPECT_TRUE(q3.qk_norm);
    EXPECT_FALSE(q3.qkv_bias);
    EXPECT_EQ(q3.q_size(), 2048);
    EXPECT_EQ(q3.parameter_count(), 596049920);
    // a written config reads back the same
    const auto again = ModelConfig::from_json_text(q3.to_json_text(), "again");
    EXPECT_EQ(again.to_json_text(), q3.to_json_text());
    EXPECT_EQ(again.parameter_count(), q3.parameter_count());
    auto moe = error_of<UnsupportedError>([] {
        ModelConfig::from_json_text(R"({"model_type": "qwen3", "num_experts": 128, "hidden_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 10})", "moe/config.json");
    });
    EXPECT_NE(moe.find("mixture of experts"), std::string::npos) << moe;
    // GLM-4-9B-0414's shape as transformers 5 writes Glm4Config (partial_rotary_factor under
    // rope_parameters too); 9,400,279,040 parameters as transformers counts Glm4ForCausalLM of it
    auto g4 = ModelConfig::from_json_text(R"({"model_type": "glm4", "vocab_size": 151552, "hidden_size": 4096,
        "intermediate_size": 13696, "num_hidden_layers": 40, "num_attention_heads": 32, "num_key_value_heads": 2,
        "head_dim": 128, "attention_bias": true, "tie_word_embeddings": false, "rms_norm_eps": 1.5625e-07,
        "rope_parameters": {"rope_theta": 10000.0, "partial_rotary_factor": 0.5, "rope_type": "default"},
        "pad_token_id": 151329, "eos_token_id": [151329, 151336, 151338]})",
                                          "glm4/config.json");
    EXPECT_EQ(g4.arch, Arch::Glm);
    EXPECT_TRUE(g4.sandwich_norms);
    EXPECT_TRUE(g4.fused_gate_up() && !g4.fused_qkv() && g4.interleaved_rope());
    EXPECT_EQ(g4.rotary_dim(), 64);
    EXPECT_EQ(g4.parameter_count(), 9400279040);
}

TEST(ModelConfig, ChatGLM6BIsToldApartFromChatGLM2) {
    // the release's config.json: model_type chatglm as ChatGLM2/3, but its own keys (FORMATS.md §3.1)
    const auto released = test::shared_dir() / "reference" / "chatglm-6b" / "config.json";
    auto c = ModelConfig::from_json_text(test::slurp(released), released.string());
    EXPECT_EQ(c.arch, Arch::ChatGLM6B);
    EXPECT_TRUE(c.prefix_lm());
    EXPECT_EQ(c.num_hidden_layers, 28);
    EXPECT_EQ(c.num_key_value_heads, 32);
    EXPECT_EQ(c.head_dim, 128);
    EXPECT_EQ(c.rotary_dim(), 128);
    EXPECT_EQ(c.intermediate_size, 16384);
    EXPECT_EQ(c.vocab_size, 130528);
    EXPECT_EQ(c.max_position_embeddings, 2048);
    EXPECT_TRUE(c.qkv_bias && c.o_bias && c.mlp_bias && c.tie_word_embeddings);
    EXPECT_EQ(c.bos_token_id, 130004);
    EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{130005});
    EXPECT_EQ(c.gmask_token_id, 130001);
    EXPECT_EQ(c.mask_token_id, 130000);
    // 28 layers of (4H² + 2HI + biases + two LayerNorms) + the embedding + the final LayerNorm
    EXPECT_EQ(c.parameter_count(), 28 * 201379840LL + 130528LL * 4096 + 2 * 4096);
    const auto again = ModelConfig::from_json_text(c.to_json_text(), "again");
    EXPECT_EQ(again.arch, Arch::ChatGLM6B);
    EXPECT_EQ(again.to_json_text(), c.to_json_text());
    auto refused = [&](const std::string& key, const nlohmann::json& value) {
        auto j = nlohmann::json::parse(test::slurp(released));
        j[key] = value;
        return error_of<UnsupportedError>([&] { ModelConfig::from_json_text(j.dump(), "chatglm-6b/config.json"); });
    };
    EXPECT_NE(refused("quantization_bit", 4).find("chatglm-6b-int4"), std::string::npos);
    EXPECT_NE(refused("pre_seq_len", 128).find("P-tuning"), std::string::npos);
    EXPECT_NE(refused("position_encoding_2d", false).find("position_encoding_2d"), std::string::npos);
}

TEST(ModelLoading, SaveThenLoadGivesTheSameLogits) {
    for (const char* type : {"qwen3", "glm4", "chatglm", "chatglm6b"}) {
        test::TempDir dir;
        auto m = Model::random(test::tiny_config(type), 4);
        m->save(dir.path);
        auto back = Model::load(dir.path, {.dtype = "float32", .device = "cpu"});
        auto ids = at::tensor(std::vector<int64_t>{1, 2, 94, 95}).unsqueeze(0);  // ChatGLM-6B: … [gMASK] <sop>
        EXPECT_TRUE(at::equal(m->forward(ids, nullptr), back->forward(ids, nullptr))) << type;
    }
    test::TempDir dir;
    auto m = Model::random(test::tiny_config("chatglm"), 4);
    m->save(dir.path);
    auto ids = at::tensor(std::vector<int64_t>{1, 2, 3, 4}).unsqueeze(0);
    auto bf = Model::load(dir.path, {.dtype = "bfloat16", .device = "cpu"});
    EXPECT_EQ(bf->dtype(), at::kBFloat16);
    EXPECT_TRUE(at::allclose(bf->forward(ids, nullptr).to(at::kFloat), m->forward(ids, nullptr), 0.05, 0.05));
}

TEST(ModelLoading, BadInputIsAClearError) {
    test::TempDir dir;
    Model::random(test::tiny_config("chatglm"), 4)->save(dir.path);
    const auto cfg = dir.path / "config.json";
    const std::string original = test::slurp(cfg);
    auto edit = [&](const std::function<void(nlohmann::json&)>& f) {
        auto j = nlohmann::json::parse(original);
        f(j);
        io::write_text_atomically(cfg, j.dump());
    };
    auto load = [&] { Model::load(dir.path, {.dtype = "float32", .device = "cpu"}); };

    edit([](auto& j) { j["model_type"] = "mamba"; });
    auto msg = error_of<UnsupportedError>(load);
    EXPECT_NE(msg.find("model_type 'mamba' is not supported"), std::string::npos) << msg;
    EXPECT_NE(msg.find("chatglm"), std::string::npos) << msg;

    edit([](auto& j) { j["ffn_hidden_size"] = 44; });
    msg = error_of<FileError>(load);
    EXPECT_NE(msg.find("dense_h_to_4h.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[88, 32]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;

    edit([](auto& j) { j.erase("num_layers"); });
    msg = error_of<ConfigError>(load);
    EXPECT_NE(msg.find("num_layers"), std::string::npos) << msg;
    EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;

    edit([](auto& j) { j["torch_dtype"] = "float8"; });
    msg = error_of<UnsupportedError>(load);
    EXPECT_NE(msg.find("float8"), std::string::npos) << msg;

    edit([](auto&) {});
    EXPECT_NE(error_of<ConfigError>([&] { Model::load(dir.path, {.dtype = "int3", .device = "cpu"}); }).find("int3"), std::string::npos);

    std::filesystem::remove(dir.path / "model.safetensors");
    msg = error_of<FileError>(load);
    EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find(dir.path.string()), std::string::npos) << msg;

    msg = error_of<FileError>([&] { load_tokenizer(dir.path, nullptr); });
    EXPECT_NE(msg.find("no tokenizer"), std::string::npos) << msg;

    msg = error_of<FileError>([&] { Model::load(dir.path / "nope"); });
    EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
}

TEST(ModelLoading, ATokenizerOfAnotherModelIsRefused) {
    // Qwen2's tokenizer (151,665 tokens) beside a model of 97 embedding rows
    test::TempDir dir;
    Model::random(test::tiny_config("qwen2"), 4)->save(dir.path);
    for (const char* f : {"vocab.json", "merges.txt", "tokenizer_config.json", "added_tokens.json", "special_tokens_map.json"})
        std::filesystem::copy(test::models_dir() / "qwen2-tokenizer" / f, dir.path / f);
    const auto config = ModelConfig::from_folder(dir.path);
    auto msg = error_of<ConfigError>([&] { load_tokenizer(dir.path, &config); });
    EXPECT_NE(msg.find("more than the model's vocabulary of 97"), std::string::npos) << msg;
    EXPECT_NE(msg.find("another model"), std::string::npos) << msg;
}
