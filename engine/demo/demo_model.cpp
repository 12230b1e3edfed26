// Builds the embedded demo (see demo_model.h). The demo text and tokenizer are compiled in from
// datasets/demo/tunebench_demo.json and tunebench_demo_tokenizer.model (generated demo_data.cpp,
// demo_tokenizer.cpp).
#include "demo/demo_model.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/error.h"
#include "core/log.h"
#include "io/atomic_file.h"
#include "model/decoder.h"
#include "tokenizer/sentencepiece_tokenizer.h"
#include "tokenizer/spm_library.h"

namespace tb {
namespace fs = std::filesystem;

std::string_view embedded_demo_dataset();  // demo_data.cpp (generated)

namespace {

ModelConfig demo_config(int64_t tokenizer_size) {
    ModelConfig c;
    c.model_type = "chatglm";
    c.arch = Arch::ChatGLM;
    c.name_or_path = "tunebench-demo-chatglm3";
    c.hidden_size = 128;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 32;
    c.intermediate_size = 352;
    c.vocab_size = (tokenizer_size + 63) / 64 * 64;  // padded like ChatGLM's padded_vocab_size
    c.max_position_embeddings = 1024;
    c.rms_norm_eps = 1e-5;
    c.qkv_bias = true;
    c.torch_dtype = "float32";
    c.eos_token_ids = {2};
    c.pad_token_id = 0;
    c.validate("demo config");
    return c;
}

void train_tokenizer(const fs::path& model_dir, const nlohmann::json& rows) {
    const fs::path text = model_dir / "demo_corpus.txt";
    std::string corpus;
    for (const auto& r : rows) {
        for (const char* k : {"instruction", "input", "output"}) {
            std::string s = r.value(k, std::string());
            if (!s.empty()) corpus += s + "\n";
        }
    }
    io::write_text_atomically(text, corpus);
    const fs::path prefix = model_dir / "tokenizer";
    std::string args = "--input=" + text.string() + " --model_prefix=" + prefix.string() +
                       " --vocab_size=600 --hard_vocab_limit=false --model_type=bpe --byte_fallback=true"
                       " --character_coverage=1.0 --split_digits=true --unk_id=0 --bos_id=1 --eos_id=2"
                       " --pad_id=-1 --num_threads=1 --minloglevel=2"
                       " --normalization_rule_name=identity";  // keeps full-width punctuation (NFKC would not)
    try {
        spm::train(args);
    } catch (...) {
        fs::remove(text);
        throw;
    }
    fs::remove(text);
    fs::remove(model_dir / "tokenizer.vocab");
}

}  // namespace

namespace {
// A LLaMA-Factory SFT YAML for the demo: learns the 32 answers in about a minute on 2 CPU cores.
void write_demo_training_yaml(const fs::path& dir) {
    const fs::path abs = fs::absolute(dir);
    io::write_text_atomically(dir / "train_lora.yaml",
                              "### model\nmodel_name_or_path: " + (abs / "model").string() +
                                  "\n\n### method\nstage: sft\ndo_train: true\nfinetuning_type: lora\nlora_target: all\n"
                                  "lora_rank: 8\n\n### dataset\ndataset: tunebench_demo\ndataset_dir: " +
                                  (abs / "data").string() +
                                  "\ntemplate: chatglm3\ncutoff_len: 256\n\n### output\noutput_dir: " +
                                  (abs / "lora").string() +
                                  "\nlogging_steps: 10\nsave_steps: 100\nplot_loss: true\noverwrite_output_dir: true\n\n"
                                  "### train\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 1\n"
                                  "learning_rate: 1.0e-2\nnum_train_epochs: 30\nlr_scheduler_type: cosine\n"
                                  "warmup_ratio: 0.05\ndisable_gradient_checkpointing: true\n");
}
}  // namespace

fs::path init_demo(const fs::path& dir, DemoTokenizer tokenizer) {
    const fs::path model_dir = dir / "model", data_dir = dir / "data";
    fs::create_directories(dir);
    write_demo_training_yaml(dir);
    // Bumped when the demo changes (2: weights scaled so a LoRA learns; identity-normalised
    // tokenizer), so an older demo on disk is rebuilt rather than reused.
    const std::string version = "2";
    const fs::path marker = model_dir / "tunebench_demo_version";
    if (tokenizer == DemoTokenizer::Shipped && fs::exists(model_dir / "model.safetensors") &&
        fs::exists(model_dir / "tokenizer.model") && fs::exists(data_dir / "dataset_info.json") && fs::exists(marker) && io::read_file(marker) == version) {
        log::info("demo already present in ", dir.string());
        return model_dir;
    }
    fs::create_directories(model_dir);
    fs::create_directories(data_dir / "demo");
    const auto text = embedded_demo_dataset();
    const auto rows = nlohmann::json::parse(text);
    io::write_text_atomically(data_dir / "demo" / "tunebench_demo.json", std::string(text));
    nlohmann::ordered_json info;
    info["tunebench_demo"] = {{"file_name", "demo/tunebench_demo.json"},
                              {"formatting", "alpaca"},
                              {"columns", {{"prompt", "instruction"}, {"query", "input"}, {"response", "output"}}}};
    io::write_text_atomically(data_dir / "dataset_info.json", info.dump(2) + "\n");

    if (tokenizer == DemoTokenizer::Train)
        train_tokenizer(model_dir, rows);
    else
        io::write_text_atomically(model_dir / "tokenizer.model", std::string(embedded_demo_tokenizer()));
    SentencePieceTokenizer tok(model_dir / "tokenizer.model", nlohmann::json::object(), /*chatglm=*/true);
    io::write_text_atomically(model_dir / "tokenizer_config.json",
                              nlohmann::ordered_json{{"name_or_path", "tunebench-demo-chatglm3"},
                                                     {"tokenizer_class", "ChatGLMTokenizer"},
                                                     {"remove_space", false},
                                                     {"padding_side", "left"}}
                                      .dump(2) + "\n");
    auto model = Model::random(demo_config(tok.vocab_size()), /*seed=*/20261122);
    // Random weights of std 0.02 (a fresh HF model) give near-uniform attention and logits that
    // an adapter can hardly sharpen. Scaled to std 1/sqrt(fan_in), as a trained model's weights
    // roughly are, the LoRA demo learns its answers in a few minutes on a CPU.
    for (Linear* l : model->linears()) l->weight.mul_(1.0 / std::sqrt(static_cast<double>(l->in_features())) / 0.02);
    model->lm_head().weight.mul_(2.0 / std::sqrt(static_cast<double>(model->config().hidden_size)) / 0.02);
    model->save(model_dir);
    io::write_text_atomically(marker, version);
    log::info("demo model (", model->config().parameter_count(), " parameters, ChatGLM architecture) written to ",
              model_dir.string());
    return model_dir;
}

}  // namespace tb
