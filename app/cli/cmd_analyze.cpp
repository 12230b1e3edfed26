// `analyze`: seed 002's weight study — per linear (and per adapter update ΔW) value statistics,
// histogram, singular spectrum and effective rank, as weight_analysis.json and SVG plots.
#include <filesystem>

#include "cli_args.h"
#include "commands.h"
#include "core/arg_values.h"
#include "core/error.h"
#include "core/log.h"
#include "eval/weight_analysis.h"

namespace tb::cli {
namespace fs = std::filesystem;


void add_analyze(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("analyze", "weight statistics, histograms and singular spectra of a model (and of an adapter's update)");
    auto collector = std::make_shared<ArgCollector>(
        sub, std::vector<std::string>{"model_name_or_path", "adapter_name_or_path", "output_dir", "device", "filter", "bins",
                                      "top_k", "exact_limit", "seed"});
    sub->callback([&run, collector] {
        run = [collector] {
            auto map = collector->collect();
            WeightAnalysisOptions o;
            std::vector<std::string> unknown;
            fs::path out;
            for (const auto& [k, v] : map) {
                if (k == "adapter_name_or_path") o.adapter_dir = v;
                else if (k == "output_dir") out = v;
                else if (k == "device") o.device = v;
                else if (k == "filter") o.filter = v;
                else if (k == "bins") o.bins = parse_int(k, v);
                else if (k == "top_k") o.top_k = parse_int(k, v);
                else if (k == "exact_limit") o.exact_limit = parse_int(k, v);
                else if (k == "seed") o.seed = static_cast<uint64_t>(parse_int(k, v));
                else if (k != "model_name_or_path") unknown.push_back(k);
            }
            warn_unknown_keys(unknown, "analyze does not use");
            const std::string model = model_folder(map);
            if (out.empty()) throw ConfigError("output_dir is not set", "name a folder for weight_analysis.json and the plots");
            if (o.bins < 1 || o.top_k < 1 || o.exact_limit < 0)
                throw ConfigError("bins and top_k should be positive and exact_limit ≥ 0");
            check_weight_analysis_folder(out);  // before the work
            const auto result = analyze_weights(model, o);
            if (result.empty()) throw ConfigError("no linear weight matched filter '" + o.filter + "'");
            write_weight_analysis(out, result);
            int exact = 0;
            for (const auto& m : result) exact += m.exact;
            log::info("analysed ", result.size(), " matrices (", exact, " exact spectra, ", result.size() - exact,
                      " randomized top-", o.top_k, " with a stated error); wrote ", (out / "weight_analysis.json").string(),
                      " and the plots");
            return 0;
        };
    });
}

}  // namespace tb::cli
