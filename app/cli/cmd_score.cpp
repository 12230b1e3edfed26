// `score generated_predictions.jsonl`: BLEU-4 and ROUGE-1/2/L of predictions already made — by
// `evaluate` or by LLaMA-Factory's do_predict — as LLaMA-Factory computes them, printed as the
// predict_results.json it would write (on stdout; nothing is written to disk).
#include <iostream>

#include "commands.h"
#include "core/error.h"
#include "core/log.h"
#include "eval/prediction_scores.h"

namespace tb::cli {

void add_score(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("score", "score a generated_predictions.jsonl (BLEU-4, ROUGE as LLaMA-Factory computes them)");
    auto file = std::make_shared<std::string>();
    sub->add_option("predictions", *file, "a generated_predictions.jsonl: one {\"predict\", \"label\"} object per line")
        ->required();
    sub->callback([&run, file] {
        run = [file] {
            const auto rows = eval::read_prediction_rows(*file);
            if (rows.empty()) throw FileError(*file + " has no predictions", "score a generated_predictions.jsonl with rows");
            const auto scores = eval::score_predictions(rows);
            std::cout << eval::predict_results_json(scores) << std::flush;
            log::info(eval::scores_summary(scores));
            if (!scores.by_words) log::warn(scores.note);
            return 0;
        };
    });
}

}  // namespace tb::cli
