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
    auto add = [](Similarity& sum, const Similarity& s) {
        sum.bleu4 += round4(s.bleu4);
        sum.rouge1 += round4(s.rouge1);
        sum.rouge2 += round4(s.rouge2);
        sum.rougeL += round4(s.rougeL);
    };
    for (size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        const Similarity chars = similarity_by_characters(r.predict, r.label);
        add(out.characters, chars);
        Similarity ranked = chars;
        if (jieba) {
            ranked = similarity(r.predict, r.label, *jieba);
            add(out.words, ranked);
        }
        scored.push_back({static_cast<int64_t>(i), r.prompt, r.predict, r.label, ranked.rougeL, ranked.bleu4});
    }
    if (!rows.empty()) {
        const double n = static_cast<double>(rows.size());
        for (Similarity* s : {&out.words, &out.characters}) {
            s->bleu4 /= n;
            s->rouge1 /= n;
            s->rouge2 /= n;
            s->rougeL /= n;
        }
    }
    std::stable_sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) { return x.rougeL < y.rougeL; });
    scored.resize(std::min<size_t>(10, scored.size()));
    out.worst = std::move(scored);
    return out;
}

std::string predict_results_json(const PredictionScores& s) {
    nlohmann::ordered_json j;
    j["predict_bleu-4"] = s.characters.bleu4;
    if (s.by_words) {
        j["predict_rouge-1"] = s.words.rouge1;
        j["predict_rouge-2"] = s.words.rouge2;
        j["predict_rouge-l"] = s.words.rougeL;
    }
    j["predict_rouge-1_characters"] = s.characters.rouge1;
    j["predict_rouge-2_characters"] = s.characters.rouge2;
    j["predict_rouge-l_characters"] = s.characters.rougeL;
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
    std::string line = std::to_string(s.samples) + " samples: BLEU-4 " + f2(s.characters.bleu4);
    if (s.by_words)
        line += ", ROUGE-1 " + f2(s.words.rouge1) + ", ROUGE-2 " + f2(s.words.rouge2) + ", ROUGE-L " + f2(s.words.rougeL) +
                " (jieba words, as LLaMA-Factory);";
    else
        line += " (ROUGE over jieba words unavailable: jieba's dictionary was not found);";
    return line + " by characters ROUGE-1 " + f2(s.characters.rouge1) + ", ROUGE-2 " + f2(s.characters.rouge2) +
           ", ROUGE-L " + f2(s.characters.rougeL);
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
