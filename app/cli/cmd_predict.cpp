// `predict --csv IN --output OUT --prompt_template T [--label_column L] [model keys]`: batch
// prediction over a CSV, resumable (run it again after a crash or Ctrl-C to continue).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "core/log.h"
#include "infer/batch_predict.h"

namespace tb::cli {
namespace {
std::atomic<bool> g_stop{false};
void on_sigint(int) { g_stop = true; }
}  // namespace

void add_predict(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("predict", "answer every row of a CSV; writes the CSV plus a prediction column, resumable");
    auto collector = std::make_shared<ArgCollector>(sub, inference_keys());
    auto o = std::make_shared<BatchPredictOptions>();
    sub->add_option("--csv", o->csv, "input CSV (UTF-8 or GBK/GB18030)")->required();
    sub->add_option("--output", o->output, "output CSV: every input column + prediction")->required();
    sub->add_option("--prompt_template", o->prompt_template, "prompt with {column} placeholders")->required();
    sub->add_option("--label_column", o->label_column, "column with the expected answer: accuracy and macro-F1");
    sub->callback([&run, collector, o] {
        run = [collector, o] {
            auto map = collector->collect();
            map.emplace("do_sample", "false");  // deterministic unless asked otherwise
            o->inference = inference_args(map);
            const bool tty = isatty(STDERR_FILENO);
            std::signal(SIGINT, on_sigint);
            auto r = run_batch_predict(*o, [&](const BatchPredictProgress& p) {
                char line[160];
                std::snprintf(line, sizeof line, "row %lld/%lld  %.1f s left", static_cast<long long>(p.done),
                              static_cast<long long>(p.total), p.eta_s);
                if (tty) std::cerr << "\r\033[K" << line << std::flush;
            }, &g_stop);
            if (tty) std::cerr << "\n";
            std::signal(SIGINT, SIG_DFL);
            log::info(r.cancelled ? "stopped; run the same command again to continue: " : "done: ", r.rows, " rows in ",
                      o->output.string(), r.resumed_from ? " (resumed after " + std::to_string(r.resumed_from) + ")" : "");
            if (r.accuracy >= 0) log::info("accuracy ", r.accuracy, ", macro-F1 ", r.macro_f1);
            return r.cancelled ? 130 : 0;
        };
    });
}

}  // namespace tb::cli
