// Prediction over a dataset split, as LLaMA-Factory's do_predict + predict_with_generate: each
// example's last reply is generated from its prompt and history, written to
// output_dir/generated_predictions.jsonl ({"prompt", "predict", "label"}, one line per example,
// appended as it goes, so an interrupted run resumes), then BLEU-4 and ROUGE-1/2/L (eval/
// prediction_scores.h) go to predict_results.json. Torch-free header.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "eval/prediction_scores.h"
#include "infer/inference_args.h"

namespace tb::eval {

struct DatasetPredictArgs {
    InferenceArgs inference;
    std::string dataset, dataset_dir = "data", output_dir;
    int64_t max_samples = 0;
    // Unknown keys are returned for one warning.
    static DatasetPredictArgs from_map(const ArgMap& map, std::vector<std::string>* unknown = nullptr);
};

struct DatasetPredictReport {
    int64_t samples = 0, resumed_from = 0;
    bool cancelled = false;
    PredictionScores scores;
};

DatasetPredictReport predict_dataset(const DatasetPredictArgs& args,
                                     const std::function<void(int64_t done, int64_t total)>& progress = {},
                                     const std::atomic<bool>* cancel = nullptr);

}  // namespace tb::eval
