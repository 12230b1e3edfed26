// `evaluate config.yaml [key=value ...]`: generate the answers of a dataset (LLaMA-Factory's
// do_predict + predict_with_generate) into output_dir/generated_predictions.jsonl, resumable,
// and score them (BLEU-4, ROUGE-1/2/L) into predict_results.json.
#include <csignal>
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "core/log.h"
#include "eval/predict_dataset.h"

namespace tb::cli {
namespace {
std::atomic<bool> g_stop{false};
void on_sigint(int) { g_stop = true; }
}  // namespace

void add_evaluate(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("evaluate", "predict a dataset's answers and score them (BLEU-4, ROUGE)");
    auto keys = inference_keys();
    for (const char* k : {"dataset", "eval_dataset", "dataset_dir", "max_samples", "output_dir"}) keys.push_back(k);
    auto collector = std::make_shared<ArgCollector>(sub, keys);
    sub->callback([&run, collector] {
        run = [collector] {
            std::vector<std::string> unknown;
            auto args = eval::DatasetPredictArgs::from_map(collector->collect(), &unknown);
            warn_unknown_keys(unknown, "evaluate does not use");
            std::signal(SIGINT, on_sigint);
            auto r = eval::predict_dataset(args, [](int64_t done, int64_t total) {
                std::cerr << "\r" << done << "/" << total << std::flush;
            }, &g_stop);
            std::cerr << "\n";
            std::signal(SIGINT, SIG_DFL);
            if (r.cancelled) {
                log::info("stopped after ", r.samples, " samples; run the same command again to continue");
                return 130;
            }
            log::info(eval::scores_summary(r.scores));
            if (!r.scores.by_words) log::warn(r.scores.note);
            const auto& worst = r.scores.worst;
            for (size_t i = 0; i < std::min<size_t>(3, worst.size()); ++i)
                log::info("low ROUGE-L ", worst[i].rougeL, " #", worst[i].index, ": ", worst[i].prompt.substr(0, 60));
            return 0;
        };
    });
}

}  // namespace tb::cli
