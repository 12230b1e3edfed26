// The scores of a set of predictions against their labels, as LLaMA-Factory's predict_results.json
// reports them (the mean over samples of each sample's score rounded to 4 decimals, 0…100), and
// the same ROUGE over characters beside them. Reads generated_predictions.jsonl files, Tunebench's
// or LLaMA-Factory's. Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "eval/text_metrics.h"

namespace tb::eval {

struct PredictionRow {
    std::string prompt, predict, label;
};

struct ScoredSample {
    int64_t index = 0;
    std::string prompt, predict, label;
    double rougeL = 0, bleu4 = 0;
};

struct PredictionScores {
    int64_t samples = 0;
    bool by_words = false;  // jieba's dictionary was found: mean.words are LLaMA-Factory's numbers
    Similarity mean;        // of the samples' scores, each rounded to 4 decimals first
    std::string note;       // what the numbers are, and why there are no words when there are none
    std::vector<ScoredSample> worst;  // lowest ROUGE-L first (by words when there are words), up to 10
};

PredictionScores score_predictions(const std::vector<PredictionRow>& rows);
// predict_results.json: LLaMA-Factory's keys (predict_bleu-4, predict_rouge-1/2/l), the
// character-level ROUGE as predict_rouge-*_characters, predict_samples and a note.
std::string predict_results_json(const PredictionScores& scores);
// One line for a log: the numbers comparable with LLaMA-Factory first, then the characters'.
std::string scores_summary(const PredictionScores& scores);
// Every line of a generated_predictions.jsonl ({"predict", "label"}, "prompt" optional); a line
// that is not such a record is a FileError naming it.
std::vector<PredictionRow> read_prediction_rows(const std::filesystem::path& jsonl);

}  // namespace tb::eval
