// `inspect`: architecture, parameter count, dtype and the memory a model needs.
#include <cstdio>
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include <map>

#include "export/ggml_quants.h"
#include "io/checkpoint.h"
#include "io/gguf_reader.h"
#include "model/gguf_layout.h"
#include "io/tensor_view.h"
#include "model/model_config.h"

namespace tb::cli {

void add_inspect(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("inspect", "describe a model folder and the memory it needs");
    auto collector = std::make_shared<ArgCollector>(sub, std::vector<std::string>{"model_name_or_path"});
    sub->callback([&run, collector] {
        run = [collector] {
            auto map = collector->collect();
            std::filesystem::path folder = model_folder(map);
            auto c = ModelConfig::from_folder(folder);
            int64_t stored = 0, bytes = 0;
            std::string format;
            if (const auto gguf = gguf_model_file(folder)) {  // a GGUF: its tensors, in their ggml types
                io::GgufReader r(*gguf);
                std::map<std::string, int> types;
                for (const auto& t : r.tensors()) {
                    int64_t n = 1;
                    for (auto d : t.shape) n *= d;
                    stored += n;
                    bytes += static_cast<int64_t>(t.nbytes);
                    ++types[ggml::traits(static_cast<ggml::Type>(t.type)).name];
                }
                format = "GGUF";
                for (const auto& [name, n] : types) format += " " + std::to_string(n) + "×" + name;
            } else {
                io::Checkpoint ckpt(folder);
                for (const auto& n : ckpt.names()) {
                    const auto& v = ckpt.view(n);
                    stored += v.numel();
                    bytes += static_cast<int64_t>(v.nbytes);
                }
                format = ckpt.format();
            }
            const double gb = 1e9, P = static_cast<double>(c.parameter_count());
            auto line = [](const char* k, const std::string& v) { std::printf("%-26s %s\n", k, v.c_str()); };
            char buf[256];
            line("architecture", std::string(arch_name(c.arch)) + " (model_type " + c.model_type + ")");
            std::snprintf(buf, sizeof buf, "%lld layers, hidden %lld, %lld heads / %lld kv heads, head dim %lld, ffn %lld, vocab %lld",
                          (long long)c.num_hidden_layers, (long long)c.hidden_size, (long long)c.num_attention_heads,
                          (long long)c.num_key_value_heads, (long long)c.head_dim, (long long)c.intermediate_size,
                          (long long)c.vocab_size);
            line("shape", buf);
            std::snprintf(buf, sizeof buf, "%.3f B (%lld; checkpoint holds %lld elements)", P / 1e9,
                          (long long)c.parameter_count(), (long long)stored);
            line("parameters", buf);
            std::snprintf(buf, sizeof buf, "%s, %s, %.2f GB on disk", c.torch_dtype.c_str(), format.c_str(), bytes / gb);
            line("checkpoint", buf);
            // QLoRA quantizes the decoder's linear weights only; embeddings, head and norms stay
            // bf16. NF4 with double quantization (bitsandbytes, MODELS.md §7): 4 bits + one 8-bit
            // absmax per 64 weights + one fp32 absmax per 64·256 = 4.127 bits per weight.
            // LLM.int8: 8 bits + one fp32 scale per output row (ignored here, < 0.1%).
            const double H = static_cast<double>(c.hidden_size);
            const double linear = static_cast<double>(c.num_hidden_layers) *
                                  (H * (c.q_size() + 2 * c.kv_size()) + c.q_size() * H + 3 * H * c.intermediate_size);
            const double rest_bf16 = (P - linear) * 2;
            std::snprintf(buf, sizeof buf, "fp32 %.2f GB, bf16/fp16 %.2f GB, int8 %.2f GB, nf4 %.2f GB", P * 4 / gb,
                          P * 2 / gb, (linear + rest_bf16) / gb, (linear * (4 + 8.0 / 64 + 32.0 / (64 * 256)) / 8 + rest_bf16) / gb);
            line("weights in memory", buf);
            const double kv = 2.0 * c.num_hidden_layers * c.kv_size() * 2;  // bytes per token, bf16
            std::snprintf(buf, sizeof buf, "%.1f MB per 1k tokens (bf16)", kv * 1000 / 1e6);
            line("KV cache", buf);
            return 0;
        };
    });
}

}  // namespace tb::cli
