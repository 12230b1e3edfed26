// `analyze`: seed 002's weight study — per linear (and per adapter update ΔW) value statistics,
// histogram, singular spectrum and effective rank, as weight_analysis.json and SVG plots.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_args.h"
#include "commands.h"
#include "core/arg_values.h"
#include "core/error.h"
#include "core/log.h"
#include "eval/weight_analysis.h"
#include "io/atomic_file.h"
#include "io/json_text.h"

namespace tb::cli {
namespace fs = std::filesystem;

namespace {

// The outputs may replace only an earlier analysis (its JSON carries the marker), never other files.
void check_output_folder(const fs::path& out) {
    const fs::path json = out / "weight_analysis.json";
    if (!fs::exists(json)) return;
    bool ours = false;
    try {
        ours = io::parse_json(io::read_file(json), json.string()).contains("tunebench_weight_analysis");
    } catch (const std::exception&) {
    }
    if (!ours)
        throw ConfigError(json.string() + " exists and was not written by tunebench-cli analyze", "choose another output_dir");
}

}  // namespace

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
            check_output_folder(out);
            const auto result = analyze_weights(model, o);
            if (result.empty()) throw ConfigError("no linear weight matched filter '" + o.filter + "'");
            fs::create_directories(out);
            io::write_text_atomically(out / "weight_analysis.json", weight_analysis_json(result).dump(1) + "\n");
            io::write_text_atomically(out / "spectrum.svg", spectrum_svg(result, false));
            io::write_text_atomically(out / "rank_by_layer.svg", rank_by_layer_svg(result, false));
            if (!o.adapter_dir.empty()) {
                io::write_text_atomically(out / "adapter_spectrum.svg", spectrum_svg(result, true));
                io::write_text_atomically(out / "adapter_rank_by_layer.svg", rank_by_layer_svg(result, true));
            }
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
