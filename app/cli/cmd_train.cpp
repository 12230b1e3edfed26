// `train config.yaml [key=value ...]`: LLaMA-Factory's SFT YAML as it is. On a terminal a
// progress line is redrawn; otherwise each logging step prints one line. Ctrl-C once stops and
// saves a checkpoint; twice cancels.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "core/log.h"
#include "core/device_memory.h"
#include "core/error.h"
#include "train/world.h"
#include "train/local_launch.h"
#include "train/trainer.h"

namespace tb::cli {
namespace {

std::atomic<int> g_request{0};

void on_sigint(int) {
    g_request = g_request.load() == 0 ? static_cast<int>(TrainRequest::StopAndSave) : static_cast<int>(TrainRequest::Cancel);
}

std::string duration(double s) {
    char buf[32];
    const auto t = static_cast<long long>(s);
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
    return buf;
}

// One GPU per process: refused before any process starts when there are too few.
void check_devices_for_ranks(const TrainingArgs& args) {
    if (args.device == "cpu") return;
    int64_t gpus = 0;
    for (const auto& d : available_devices()) gpus += d.rfind("cuda", 0) == 0;
    if (args.device == "auto" && gpus == 0) return;  // CPU processes over Gloo
    if (args.device.rfind("cuda:", 0) == 0)
        throw ConfigError("device " + args.device + " names one GPU but nproc_per_node is " + std::to_string(args.nproc_per_node),
                          "use device: cuda (process r takes GPU r; CUDA_VISIBLE_DEVICES picks which GPUs)");
    if (gpus < args.nproc_per_node)
        throw ConfigError("nproc_per_node " + std::to_string(args.nproc_per_node) + " needs one GPU per process, this machine shows " +
                              std::to_string(gpus),
                          "set nproc_per_node to at most " + std::to_string(std::max<int64_t>(1, gpus)) + ", or device: cpu");
}

}  // namespace

void add_train(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("train", "fine-tune with LoRA / QLoRA / freeze / full (LLaMA-Factory SFT YAML)");
    auto collector = std::make_shared<ArgCollector>(sub, training_keys(), training_flag_keys());
    sub->callback([&run, collector] {
        run = [collector] {
            std::vector<std::string> unknown;
            auto args = TrainingArgs::from_map(collector->collect(), &unknown);
            const auto world = dist::world_from_env();
            if (args.nproc_per_node > 1 && !world.distributed()) {
                // this process only starts and watches the ranks; each rank reads the same arguments
                warn_unknown_keys(unknown, "Tunebench does not use");
                check_devices_for_ranks(args);
                return run_local_ranks({.nproc = static_cast<int>(args.nproc_per_node), .argv = this_command_line()});
            }
            if (world.rank > 0) {
                // rank 0 speaks for the run; the others print only what went wrong, marked with their rank
                log::set_min_level(log::Level::Error);
                try {
                    std::signal(SIGINT, on_sigint);
                    return run_training(args, {}, &g_request).stopped_early ? 130 : 0;
                } catch (const ConfigError&) {
                    return 1;  // the same bad arguments or files in every process: rank 0 reports them
                } catch (const FileError&) {
                    return 1;
                } catch (const UnsupportedError&) {
                    return 1;
                } catch (const CancelledError&) {
                    return 1;
                } catch (const Error& e) {
                    throw Error("[rank " + std::to_string(world.rank) + "] " + e.what(), e.hint());
                }
            }
            warn_unknown_keys(unknown, "Tunebench does not use");
            const bool tty = isatty(STDERR_FILENO);
            std::signal(SIGINT, on_sigint);
            double last_loss = -1;
            auto result = run_training(args, [&](const TrainProgress& p) {
                if (p.loss >= 0) last_loss = p.loss;
                if (p.phase != "training" || (!p.message.empty() && !p.is_log)) {  // "training": the loop starts
                    if (!p.message.empty()) {
                        if (tty) std::cerr << "\r\033[K";
                        log::info(p.message);
                    }
                    return;
                }
                if (p.eval_loss >= 0) {
                    if (tty) std::cerr << "\r\033[K";
                    log::info("step ", p.step, ": eval_loss ", p.eval_loss);
                }
                char line[256];
                std::snprintf(line, sizeof line, "step %lld/%lld  epoch %.2f  loss %.4f  lr %.2e  %.0f tok/s  %s<%s  %.0f MiB",
                              static_cast<long long>(p.step), static_cast<long long>(p.total_steps), p.epoch, last_loss,
                              p.learning_rate, p.tokens_per_second, duration(p.elapsed_s).c_str(), duration(p.eta_s).c_str(),
                              p.memory_bytes / 1048576.0);
                if (tty) std::cerr << "\r\033[K" << line << std::flush;
                else if (p.is_log) std::cerr << line << "\n";
            }, &g_request);
            if (tty) std::cerr << "\n";
            std::signal(SIGINT, SIG_DFL);
            log::info(result.stopped_early ? "stopped at step " : "done: ", result.global_step, " steps, train_loss ",
                      result.train_loss, ", output in ", result.output_dir);
            // Stopped by Ctrl-C (saved, resumable) is not a finished run: 130, as predict and evaluate
            return result.stopped_early ? 130 : 0;
        };
    });
}

}  // namespace tb::cli
