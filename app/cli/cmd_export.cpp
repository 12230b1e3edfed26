// `export config.yaml [key=value ...]`: merge adapters into the base and write a HF folder.
#include "cli_args.h"
#include "commands.h"
#include "core/log.h"
#include "export/gguf_export.h"
#include "export/merge_export.h"

namespace tb::cli {

void add_export(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("export", "merge LoRA adapters into the base model and write a Hugging Face folder (or, export_format=gguf, a GGUF file)");
    auto collector = std::make_shared<ArgCollector>(
        sub, std::vector<std::string>{"model_name_or_path", "adapter_name_or_path", "export_dir", "export_size", "export_device", "export_dtype",
              "export_legacy_format", "quantization_bit", "template", "export_format", "export_gguf_type", "export_quantization_bit"});
    sub->callback([&run, collector] {
        run = [collector] {
            std::vector<std::string> unknown;
            auto args = ExportArgs::from_map(collector->collect(), &unknown);
            warn_unknown_keys(unknown, "export does not use");
            if (args.export_format == "gguf") {
                const auto r = export_gguf(args);
                const auto c = verify_gguf_export(args, r.file, {"你好", "Hello, who are you?", "Tunebench 是什么？"});
                log::info("checked against base + adapter on ", c.prompts, " prompts: logits differ by at most ", c.max_abs_diff,
                          " (scale ", c.logit_scale, "), relative RMS ", c.relative_rms, ", greedy tokens equal at ",
                          100.0 * c.greedy_agreement, "% of positions", c.ok ? ": ok" : ": FAILED");
                if (!c.ok) return 1;
            } else {
                export_merged_model(args);
                const auto c = verify_export(args, {"你好", "Hello, who are you?", "Tunebench 是什么？"});
                log::info("checked against base + adapter", args.export_quantization_bit == 4 ? " quantized to NF4" : args.export_quantization_bit == 8 ? " quantized to int8" : "", " on ",
                          c.prompts, " prompts: logits differ by at most ", c.max_abs_diff, " (scale ", c.logit_scale,
                          "), greedy tokens equal at ", 100.0 * c.greedy_agreement, "% of positions", c.ok ? ": ok" : ": FAILED");
                if (!c.ok) return 1;
            }
            return 0;
        };
    });
}

}  // namespace tb::cli
