// Resumable batch prediction. The output is appended one CSV record at a time and flushed; on
// start an existing output is checked against the input header and cut back to its last
// complete record (a crash may leave half a record).
#include "infer/batch_predict.h"

#include <chrono>
#include <fstream>
#include <map>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "data/csv.h"
#include "data/csv_convert.h"
#include "infer/chat_session.h"
#include "infer/in_order.h"
#include "infer/prediction_job.h"
#include "io/atomic_file.h"

namespace tb {
namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s) {
    const auto a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// The complete records of an earlier output: everything up to the last newline outside quotes
// (an interrupted append leaves at most one partial record, whatever its number of lines).
data::CsvTable earlier_output(const fs::path& path, std::string* kept_bytes) {
    const std::string text = io::read_file(path);
    bool quoted = false;
    size_t end = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '"') quoted = !quoted;
        else if (text[i] == '\n' && !quoted) end = i + 1;
    }
    *kept_bytes = text.substr(0, end);
    if (kept_bytes->empty()) return {};
    return data::parse_csv(*kept_bytes, path.string());  // FileError naming the line if it is damaged
}

}  // namespace

void score_predictions(const fs::path& output, const std::string& label_column, BatchPredictReport& report) {
    if (label_column.empty()) return;
    auto t = data::read_csv(output);
    const int label = t.column(label_column), pred = t.column("prediction");
    if (label < 0 || pred < 0 || t.rows.empty()) return;
    std::map<std::string, int64_t> tp, fp, fn;
    std::set<std::string> classes;
    int64_t correct = 0;
    for (const auto& r : t.rows) {
        const auto y = trim(r[label]), p = trim(r[pred]);
        classes.insert(y);
        classes.insert(p);  // scikit-learn's macro average: every label seen in either column
        if (y == p) {
            ++correct;
            ++tp[y];
        } else {
            ++fn[y];
            ++fp[p];
        }
    }
    report.accuracy = static_cast<double>(correct) / t.rows.size();
    double f1 = 0;
    for (const auto& c : classes) {
        const double prec = tp[c] + fp[c] ? static_cast<double>(tp[c]) / (tp[c] + fp[c]) : 0;
        const double rec = tp[c] + fn[c] ? static_cast<double>(tp[c]) / (tp[c] + fn[c]) : 0;
        f1 += prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
    }
    report.macro_f1 = f1 / classes.size();
}

BatchPredictReport run_batch_predict(const BatchPredictOptions& o,
                                     const std::function<void(const BatchPredictProgress&)>& progress,
                                     const std::atomic<bool>* cancel) {
    if (o.output.empty()) throw ConfigError("--output is not set", "name the CSV file to write predictions to");
    if (o.prompt_template.empty()) throw ConfigError("--prompt_template is not set", "e.g. \"{question}\" or \"Classify: {text}\"");
    if (fs::exists(o.output) && fs::equivalent(o.output, o.csv))
        throw ConfigError("--output is the input CSV", "write predictions to a new file");
    auto input = data::read_csv(o.csv);
    BatchPredictReport report;
    report.encoding = input.encoding;
    if (!o.label_column.empty() && input.column(o.label_column) < 0)
        throw ConfigError("--label_column '" + o.label_column + "' is not in " + o.csv.string());
    if (input.column("prediction") >= 0)
        throw ConfigError(o.csv.string() + " already has a 'prediction' column", "rename it; the output adds one");
    // check the template against the header before loading the model
    if (!input.rows.empty()) data::fill_template(o.prompt_template, input.header, input.rows[0], "--prompt_template");
    auto header = input.header;
    header.push_back("prediction");

    // The job this output belongs to: refuse a file another job (or the user) wrote.
    nlohmann::ordered_json job = {{"kind", "tunebench predict"},
                                  {"input", fs::weakly_canonical(o.csv).string()},
                                  {"input_digest", content_digest(io::read_file(o.csv))},
                                  {"prompt_template", o.prompt_template},
                                  {"label_column", o.label_column}};
    job.update(inference_identity(o.inference));
    claim_prediction_output(o.output, job, "--output");

    std::string kept;
    if (fs::exists(o.output)) {
        auto earlier = earlier_output(o.output, &kept);
        if (!kept.empty() && earlier.header != header) {
            throw ConfigError(o.output.string() + " exists with other columns",
                              "it is not an earlier run of this prediction; choose another --output");
        }
        report.resumed_from = static_cast<int64_t>(earlier.rows.size());
        if (report.resumed_from > static_cast<int64_t>(input.rows.size()))
            throw ConfigError(o.output.string() + " has more rows than " + o.csv.string(), "choose another --output");
    }
    if (kept.empty()) kept = data::csv_line(header);
    io::write_text_atomically(o.output, kept);  // the complete part, any half record cut off
    report.rows = report.resumed_from;
    if (report.resumed_from > 0) log::info("resuming after ", report.resumed_from, " rows already in ", o.output.string());

    if (report.rows < static_cast<int64_t>(input.rows.size())) {
        ChatSession session(o.inference);
        std::ofstream out(o.output, std::ios::app | std::ios::binary);
        const auto t0 = std::chrono::steady_clock::now();
        const size_t start = static_cast<size_t>(report.rows);
        const int64_t total = static_cast<int64_t>(input.rows.size());
        std::vector<std::vector<int64_t>> prompts;
        for (size_t r = start; r < input.rows.size(); ++r) {
            auto prompt = data::fill_template(o.prompt_template, input.header, input.rows[r], "--prompt_template");
            prompts.push_back(session.prompt_ids({}, prompt, o.inference.system));
        }
        // rows are decoded together and written in input order, each once every earlier one is
        InOrder<std::string> writer(start, [&](size_t r, std::string&& prediction) {
            auto fields = input.rows[r];
            fields.push_back(prediction);
            out << data::csv_line(fields) << std::flush;
            if (!out) throw FileError("cannot write " + o.output.string(), "check the disk space and permissions");
            ++report.rows;
            if (progress) {
                const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                const int64_t done_now = report.rows - static_cast<int64_t>(start);
                progress({report.rows, total, el, el / done_now * (total - report.rows), prediction});
            }
        });
        const bool finished = session.replies(prompts, o.inference.per_device_eval_batch_size,
                                              [&](size_t k, GenerateResult&& reply) {
                                                  writer.add(start + k, std::move(reply.text));
                                                  return true;
                                              },
                                              cancel);
        if (!finished) report.cancelled = true;
    }
    if (!report.cancelled) score_predictions(o.output, o.label_column, report);
    return report;
}

}  // namespace tb
