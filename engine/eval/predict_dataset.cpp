#include "eval/predict_dataset.h"
#include "io/json_text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "core/arg_values.h"
#include "core/error.h"
#include "core/log.h"
#include "data/dataset_registry.h"
#include "eval/text_metrics.h"
#include "infer/chat_session.h"
#include "io/atomic_file.h"

namespace tb::eval {
namespace fs = std::filesystem;
using nlohmann::json;

DatasetPredictArgs DatasetPredictArgs::from_map(const ArgMap& map, std::vector<std::string>* unknown) {
    DatasetPredictArgs a;
    ArgMap inference;
    for (const auto& [k, v] : map) {
        if (k == "dataset" || k == "eval_dataset") a.dataset = v;
        else if (k == "dataset_dir") a.dataset_dir = v;
        else if (k == "output_dir") a.output_dir = v;
        else if (k == "max_samples") a.max_samples = parse_int(k, v);
        else if (k == "stage" || k == "do_predict" || k == "predict_with_generate" || k == "finetuning_type" ||
                 k == "per_device_eval_batch_size" || k == "cutoff_len" || k == "overwrite_cache" ||
                 k == "preprocessing_num_workers" || k == "report_to")
            continue;
        else inference[k] = v;
    }
    inference.emplace("do_sample", "false");  // reproducible scores unless asked otherwise
    a.inference = InferenceArgs::from_map(inference, unknown);
    if (a.dataset.empty()) throw ConfigError("dataset (or eval_dataset) is not set", "name a dataset in dataset_info.json");
    if (a.output_dir.empty()) throw ConfigError("output_dir is not set", "name a folder for generated_predictions.jsonl");
    return a;
}

DatasetPredictReport predict_dataset(const DatasetPredictArgs& a, const std::function<void(int64_t, int64_t)>& progress,
                                     const std::atomic<bool>* cancel) {
    auto examples = data::load_datasets(a.dataset_dir, a.dataset, a.max_samples);
    fs::create_directories(a.output_dir);
    const fs::path out = fs::path(a.output_dir) / "generated_predictions.jsonl";
    DatasetPredictReport report;
    // keep the complete lines of an earlier run (a crash may leave half a line)
    std::vector<json> rows;
    if (fs::exists(out)) {
        std::ifstream in(out);
        std::string line, kept;
        while (std::getline(in, line) && rows.size() < examples.size()) {
            try {
                auto j = json::parse(line);
                if (!j.contains("predict") || !j.contains("label")) break;
                rows.push_back(j);
                kept += line + "\n";
            } catch (const json::exception&) {
                break;
            }
        }
        io::write_text_atomically(out, kept);
        report.resumed_from = static_cast<int64_t>(rows.size());
    }
    if (rows.size() < examples.size()) {
        ChatSession session(a.inference);
        std::ofstream append(out, std::ios::app | std::ios::binary);
        for (size_t i = rows.size(); i < examples.size(); ++i) {
            if (cancel && cancel->load()) {
                report.cancelled = true;
                break;
            }
            const auto& m = examples[i].messages;
            std::vector<std::pair<std::string, std::string>> history;
            for (size_t k = 0; k + 2 < m.size(); k += 2) history.emplace_back(m[k].content, m[k + 1].content);
            const auto& query = m[m.size() - 2].content;
            auto r = session.answer(history, query, examples[i].system, cancel);
            if (r.finish_reason == "cancelled") {
                report.cancelled = true;
                break;
            }
            json row = {{"prompt", query}, {"predict", r.text}, {"label", m.back().content}};
            append << io::dump_json(row) << "\n" << std::flush;
            rows.push_back(row);
            if (progress) progress(static_cast<int64_t>(rows.size()), static_cast<int64_t>(examples.size()));
        }
    }
    report.samples = static_cast<int64_t>(rows.size());
    if (rows.empty()) return report;
    std::vector<ScoredSample> scored;
    for (size_t i = 0; i < rows.size(); ++i) {
        const auto s = similarity(rows[i]["predict"].get<std::string>(), rows[i]["label"].get<std::string>());
        report.bleu4 += s.bleu4;
        report.rouge1 += s.rouge1;
        report.rouge2 += s.rouge2;
        report.rougeL += s.rougeL;
        scored.push_back({static_cast<int64_t>(i), rows[i]["prompt"], rows[i]["predict"], rows[i]["label"], s.rougeL, s.bleu4});
    }
    const double n = static_cast<double>(rows.size());
    report.bleu4 /= n;
    report.rouge1 /= n;
    report.rouge2 /= n;
    report.rougeL /= n;
    std::stable_sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) { return x.rougeL < y.rougeL; });
    scored.resize(std::min<size_t>(10, scored.size()));
    report.worst = scored;
    if (!report.cancelled) {
        auto r4 = [](double v) { return std::round(v * 10000) / 10000; };
        json results = {{"predict_bleu-4", r4(report.bleu4)},   {"predict_rouge-1", r4(report.rouge1)},
                        {"predict_rouge-2", r4(report.rouge2)}, {"predict_rouge-l", r4(report.rougeL)},
                        {"predict_samples", report.samples},
                        {"note", "BLEU-4 over characters; ROUGE over tokens with each CJK character one token "
                                 "(LLaMA-Factory uses jieba words for ROUGE)"}};
        io::write_text_atomically(fs::path(a.output_dir) / "predict_results.json", results.dump(4) + "\n");
    }
    return report;
}

}  // namespace tb::eval
