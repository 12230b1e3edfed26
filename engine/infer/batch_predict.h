// CSV batch prediction: every row of a CSV rendered through a {column} prompt template,
// answered by the model, and written to an output CSV (all input columns + "prediction") row by
// row, so a crash or a cancel loses nothing and running again resumes after the last complete
// row. With a label column: accuracy and macro-F1 (exact match after trimming). Torch-free header:
// `tunebench-cli predict` and the GUI wizard share it.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "infer/inference_args.h"

namespace tb {

struct BatchPredictOptions {
    std::filesystem::path csv, output;
    std::string prompt_template;  // e.g. "{药品}的适应病症" — {column} placeholders, {{ }} literal
    std::string label_column;     // optional
    InferenceArgs inference;
};

struct BatchPredictProgress {
    int64_t done = 0, total = 0;  // rows in the output / in the input
    double elapsed_s = 0, eta_s = 0;
    std::string last_prediction;
};

struct BatchPredictReport {
    int64_t rows = 0;          // rows in the output when finished or stopped
    int64_t resumed_from = 0;  // complete rows found in an earlier output
    bool cancelled = false;
    std::string encoding;      // of the input CSV
    double accuracy = -1, macro_f1 = -1;  // -1 without a label column
};

// Only the scores of a finished output CSV (also for the GUI summary).
void score_predictions(const std::filesystem::path& output, const std::string& label_column, BatchPredictReport& report);

BatchPredictReport run_batch_predict(const BatchPredictOptions& options,
                                     const std::function<void(const BatchPredictProgress&)>& progress = {},
                                     const std::atomic<bool>* cancel = nullptr);

}  // namespace tb
