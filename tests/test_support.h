// Paths to the shared reference data (../shared next to the checkout) and small helpers.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/model_config.h"

namespace tb::test {

inline std::filesystem::path shared_dir() { return TB_SHARED_DIR; }
inline std::filesystem::path models_dir() { return shared_dir() / "models"; }
inline std::filesystem::path datasets_dir() { return shared_dir() / "datasets"; }

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::vector<int64_t> parse_ids(const std::string& line) {
    std::vector<int64_t> ids;
    std::istringstream is(line);
    int64_t v;
    while (is >> v) ids.push_back(v);
    return ids;
}

// A tiny config of each architecture (2 layers, hidden 32, 4 heads / 2 kv heads, head dim 8)
// for tests that build random models with the project's own code.
inline ModelConfig tiny_config(const std::string& type) {
    ModelConfig c;
    c.model_type = type;
    c.arch = type == "chatglm6b"                 ? Arch::ChatGLM6B
             : type == "chatglm"                 ? Arch::ChatGLM
             : type == "qwen2"                   ? Arch::Qwen2
             : type == "qwen3"                   ? Arch::Qwen3
             : type == "glm" || type == "glm4"   ? Arch::Glm
                                                 : Arch::Llama;
    c.hidden_size = 32;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 8;
    c.intermediate_size = 48;
    c.vocab_size = 97;
    c.rms_norm_eps = 1e-5;
    c.qkv_bias = c.arch == Arch::ChatGLM || c.arch == Arch::Qwen2 || c.arch == Arch::Glm;
    c.sandwich_norms = type == "glm4";
    c.tie_word_embeddings = c.arch == Arch::Qwen2;
    if (c.arch == Arch::Qwen3) {  // q/k norms, and a head_dim that is not hidden / heads
        c.qk_norm = true;
        c.head_dim = 12;
    }
    if (c.arch == Arch::ChatGLM6B) {  // every linear biased, MHA, tied head; ids 93–96 its specials
        c.model_type = "chatglm";
        c.num_key_value_heads = 4;
        c.qkv_bias = c.o_bias = c.mlp_bias = true;
        c.tie_word_embeddings = true;
        c.mask_token_id = 93;
        c.gmask_token_id = 94;
        c.bos_token_id = 95;
        c.eos_token_ids = {96};
    }
    c.validate("tiny");
    return c;
}

// "what | hint" of the tb::Error (or subclass E) that f throws, "no error" when it throws none.
template <class E = Error>
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const E& e) {
        return std::string(e.what()) + " | " + e.hint();
    }
    return "no error";
}

// A fresh empty temporary folder, removed by the destructor.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() /
               ("tunebench-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    static int& counter() {
        static int c = 0;
        return c;
    }
};

}  // namespace tb::test
