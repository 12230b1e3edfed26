#include "eval/prediction_scores.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "eval/jieba_segmenter.h"
#include "io/atomic_file.h"
#include "io/json_text.h"

namespace tb::eval {

PredictionScores score_predictions(const std::vector<PredictionRow>& rows) {
    PredictionScores out;
    out.samples = static_cast<int64_t>(rows.size());
    std::string why;
    const JiebaSegmenter* jieba = JiebaSegmenter::installed(&why);
    out.by_words = jieba != nullptr;
    out.note = out.by_words
                   ? "BLEU-4 over characters and ROUGE over jieba words, as LLaMA-Factory scores; "
                     "*_characters: ROUGE with each CJK character one token"
                   : "ROUGE over jieba words is missing: " + why +
                         ". *_characters: ROUGE with each CJK character one token (not comparable with "
                         "LLaMA-Factory's ROUGE)";
    std::vector<ScoredSample> scored;
    auto add = [](Rouge& sum, const Rouge& r) {
        sum.rouge1 += round4(r.rouge1);
        sum.rouge2 += round4(r.rouge2);
        sum.rougeL += round4(r.rougeL);
    };
    Similarity& m = out.mean;
    for (size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        const Similarity s = similarity(r.predict, r.label, jieba);
        m.bleu4 += round4(s.bleu4);
        add(m.words, s.words);
        add(m.characters, s.characters);
        const double rougeL = jieba ? s.words.rougeL : s.characters.rougeL;
        scored.push_back({static_cast<int64_t>(i), r.prompt, r.predict, r.label, rougeL, s.bleu4});
    }
    if (!rows.empty()) {
        const double n = static_cast<double>(rows.size());
        m.bleu4 /= n;
        for (Rouge* r : {&m.words, &m.characters}) {
            r->rouge1 /= n;
            r->rouge2 /= n;
            r->rougeL /= n;
        }
    }
    std::stable_sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) { return x.rougeL < y.rougeL; });
    scored.resize(std::min<size_t>(10, scored.size()));
    out.worst = std::move(scored);
    return out;
}

std::string predict_results_json(const PredictionScores& s) {
    nlohmann::ordered_json j;
    const auto& m = s.mean;
    j["predict_bleu-4"] = m.bleu4;
    if (s.by_words) {
        j["predict_rouge-1"] = m.words.rouge1;
        j["predict_rouge-2"] = m.words.rouge2;
        j["predict_rouge-l"] = m.words.rougeL;
    }
    j["predict_rouge-1_characters"] = m.characters.rouge1;
    j["predict_rouge-2_characters"] = m.characters.rouge2;
    j["predict_rouge-l_characters"] = m.characters.rougeL;
    j["predict_samples"] = s.samples;
    j["note"] = s.note;
    return io::dump_json(j, 4) + "\n";
}

std::string scores_summary(const PredictionScores& s) {
    auto f2 = [](double v) {
        char b[32];
        std::snprintf(b, sizeof b, "%.2f", v);
        return std::string(b);
    };
    const auto& m = s.mean;
    std::string line = std::to_string(s.samples) + " samples: BLEU-4 " + f2(m.bleu4);
    if (s.by_words)
        line += ", ROUGE-1 " + f2(m.words.rouge1) + ", ROUGE-2 " + f2(m.words.rouge2) + ", ROUGE-L " + f2(m.words.rougeL) +
                " (jieba words, as LLaMA-Factory);";
    else
        line += " (ROUGE over jieba words unavailable: jieba's dictionary was not found);";
    return line + " by characters ROUGE-1 " + f2(m.characters.rouge1) + ", ROUGE-2 " + f2(m.characters.rouge2) +
           ", ROUGE-L " + f2(m.characters.rougeL);
}

std::vector<PredictionRow> read_prediction_rows(const std::filesystem::path& jsonl) {
    const std::string text = io::read_file(jsonl);
    std::vector<PredictionRow> rows;
    size_t begin = 0;
    for (int64_t line = 1; begin < text.size(); ++line) {
        size_t end = text.find('\n', begin);
        if (end == std::string::npos) end = text.size();
        const std::string where = jsonl.string() + ":" + std::to_string(line);
        const std::string record = text.substr(begin, end - begin);
        begin = end + 1;
        if (record.find_first_not_of(" \t\r") == std::string::npos) continue;
        nlohmann::json j;
        try {
            j = io::parse_json(record, where);
        } catch (const nlohmann::json::exception& e) {
            throw FileError(where + " is not JSON (" + e.what() + ")", "each line must be one {\"predict\", \"label\"} object");
        }
        auto text_of = [&](const char* key, bool required) -> std::string {
            if (!j.is_object() || !j.contains(key)) {
                if (!required) return {};
                throw FileError(where + ": no \"" + key + "\"",
                                "each line must be one {\"predict\", \"label\"} object (generated_predictions.jsonl)");
            }
            if (!j[key].is_string()) throw FileError(where + ": \"" + key + "\" is not a string");
            return j[key].get<std::string>();
        };
        rows.push_back({text_of("prompt", false), text_of("predict", true), text_of("label", true)});
    }
    return rows;
}

}  // namespace tb::eval
