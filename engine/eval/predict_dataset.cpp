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
#include "infer/chat_session.h"
#include "infer/in_order.h"
#include "infer/prediction_job.h"
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
                 k == "cutoff_len" || k == "overwrite_cache" ||
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
    // The job this output belongs to: another dataset, model, adapter or setting is refused.
    std::string content;
    for (const auto& ex : examples) {
        content += ex.system + '\x1f';
        for (const auto& m : ex.messages) content += m.content + '\x1e';
        content += '\x1d';
    }
    nlohmann::ordered_json job = {{"kind", "tunebench evaluate"},
                                  {"dataset", a.dataset},
                                  {"dataset_dir", fs::weakly_canonical(a.dataset_dir).string()},
                                  {"examples_digest", content_digest(content)},
                                  {"max_samples", a.max_samples}};
    job.update(inference_identity(a.inference));
    claim_prediction_output(out, job, "output_dir");
    // Keep the complete lines of an earlier run of this job: only the last line can be partial
    // (it is appended line by line); a damaged line before it stops the run, nothing is dropped.
    std::vector<json> rows;
    if (fs::exists(out)) {
        const std::string text = io::read_file(out);
        const size_t end = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
        size_t begin = 0;
        for (int64_t line = 1; begin < end; ++line) {
            const size_t nl = text.find('\n', begin);
            try {
                auto j = io::parse_json(text.substr(begin, nl - begin), out.string());
                if (!j.is_object() || !j.contains("predict") || !j.contains("label") || !j["predict"].is_string() ||
                    !j["label"].is_string() || !j.contains("prompt") || !j["prompt"].is_string())
                    throw FileError(out.string() + ":" + std::to_string(line) + ": not a prediction record");
                rows.push_back(std::move(j));
            } catch (const nlohmann::json::exception& e) {
                throw FileError(out.string() + ":" + std::to_string(line) + " is damaged (" + e.what() + ")",
                                "move the file away to predict again from the start");
            }
            begin = nl + 1;
        }
        if (rows.size() > examples.size())
            throw ConfigError(out.string() + " has more rows than the dataset has examples", "choose another output_dir");
        io::write_text_atomically(out, text.substr(0, end));
        report.resumed_from = static_cast<int64_t>(rows.size());
    }
    if (rows.size() < examples.size()) {
        ChatSession session(a.inference);
        std::ofstream append(out, std::ios::app | std::ios::binary);
        const size_t first = rows.size();
        std::vector<std::vector<int64_t>> prompts;
        for (size_t i = first; i < examples.size(); ++i) {
            const auto& m = examples[i].messages;
            std::vector<std::pair<std::string, std::string>> history;
            for (size_t k = 0; k + 2 < m.size(); k += 2) history.emplace_back(m[k].content, m[k + 1].content);
            const auto& system = examples[i].system.empty() ? a.inference.system : examples[i].system;
            prompts.push_back(session.prompt_ids(history, m[m.size() - 2].content, system));
        }
        // rows are decoded together and written in dataset order, each once every earlier one is
        InOrder<std::string> writer(first, [&](size_t i, std::string&& predict) {
            const auto& m = examples[i].messages;
            json row = {{"prompt", m[m.size() - 2].content}, {"predict", predict}, {"label", m.back().content}};
            append << io::dump_json(row) << "\n" << std::flush;
            if (!append) throw FileError("cannot write " + out.string(), "check the disk space and permissions");
            rows.push_back(row);
            if (progress) progress(static_cast<int64_t>(rows.size()), static_cast<int64_t>(examples.size()));
        });
        const bool finished = session.replies(prompts, a.inference.per_device_eval_batch_size,
                                              [&](size_t k, GenerateResult&& r) {
                                                  writer.add(first + k, std::move(r.text));
                                                  return true;
                                              },
                                              cancel);
        if (!finished) report.cancelled = true;
    }
    report.samples = static_cast<int64_t>(rows.size());
    if (rows.empty()) return report;
    std::vector<PredictionRow> scored;
    for (const auto& r : rows) scored.push_back({r["prompt"], r["predict"], r["label"]});
    report.scores = score_predictions(scored);
    if (!report.cancelled)
        io::write_text_atomically(fs::path(a.output_dir) / "predict_results.json", predict_results_json(report.scores));
    return report;
}

}  // namespace tb::eval
