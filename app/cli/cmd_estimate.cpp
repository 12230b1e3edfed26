// `estimate config.yaml [key=value ...]`: the training YAML's memory and time estimates without
// training — will it fit, how long (the Train tab's Estimate button, for scripts).
#include <cstdio>

#include "cli_args.h"
#include "commands.h"
#include "core/log.h"
#include "train/memory_estimate.h"
#include "train/time_estimate.h"

namespace tb::cli {

void add_estimate(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("estimate", "memory and time a training YAML needs, without training");
    auto collector = std::make_shared<ArgCollector>(sub, training_keys(), training_flag_keys());
    sub->callback([&run, collector] {
        run = [collector] {
            std::vector<std::string> unknown;
            const auto args = TrainingArgs::from_map(collector->collect(), &unknown);
            warn_unknown_keys(unknown, "Tunebench does not use");
            const double gib = 1024.0 * 1024 * 1024;
            const auto m = estimate_training_memory(args);
            std::printf("memory: %.2f GiB on %s (weights %.2f, optimizer %.2f, activations %.2f of which attention %.2f)",
                        m.total_bytes / gib, m.device.c_str(), m.weight_bytes / gib, m.optimizer_bytes / gib,
                        m.activation_bytes / gib, m.attention_bytes / gib);
            if (m.available_bytes > 0)
                std::printf(", %s the %.1f GiB free%s%s", m.fits ? "fits in" : "does NOT fit in", m.available_bytes / gib,
                            m.fits ? "" : ": ", m.advice.c_str());
            std::printf("\n");
            const auto t = estimate_training_time(args);
            std::printf("time: %.1f s for %lld steps over %lld examples (%.3g tokens, %.3g GFLOP/token, %.3g TFLOP/s measured on %s)\n",
                        t.seconds, static_cast<long long>(t.steps), static_cast<long long>(t.examples), t.tokens,
                        t.flops_per_token / 1e9, t.device_flops / 1e12, t.device.c_str());
            return 0;
        };
    });
}

}  // namespace tb::cli
