// `bench`: load time, time to first token, decode tokens/s at several batch sizes and peak memory
// of a model folder (optionally with an adapter); a table, then the same figures as one JSON line.
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "core/arg_values.h"
#include "core/error.h"
#include "core/string_list.h"
#include "infer/benchmark.h"
#include "io/atomic_file.h"

namespace tb::cli {

namespace {
std::vector<int64_t> int_list(const std::string& key, const std::string& value) {
    std::vector<int64_t> out;
    for (const auto& part : split_comma_list(value)) {
        const int64_t n = parse_int(key, part);
        if (n < 1) throw ConfigError(key + " lists " + part + "; every entry must be ≥ 1", "e.g. " + key + "=1,8,64");
        out.push_back(n);
    }
    if (out.empty()) throw ConfigError(key + " is empty", "e.g. " + key + "=1,8,64");
    return out;
}
}  // namespace

void add_bench(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("bench", "load time, time to first token, decode tokens/s (batch 1, 8, 64), peak memory");
    auto keys = inference_keys();
    for (const char* k : {"batch_sizes", "ttft_prompts", "prompt_len", "new_tokens", "cuda_graphs", "json", "compare_with"})
        keys.push_back(k);
    auto collector = std::make_shared<ArgCollector>(sub, keys);
    auto compare = std::make_shared<bool>(false);
    sub->add_flag("--compare", *compare,
                  "one table: base, base + adapter, merged, int8, NF4 (and each --compare_with model: a GGUF or a 4-bit export)");
    sub->callback([&run, collector, compare] {
        run = [collector, compare] {
            auto map = collector->collect();
            BenchOptions o;
            std::string json_path;
            std::vector<std::string> more;
            for (auto it = map.begin(); it != map.end();) {
                const auto& [k, v] = *it;
                bool mine = true;
                if (k == "batch_sizes") o.batch_sizes = int_list(k, v);
                else if (k == "ttft_prompts") o.ttft_prompts = int_list(k, v);
                else if (k == "prompt_len") o.decode_prompt = int_list(k, v).at(0);
                else if (k == "new_tokens") o.new_tokens = int_list(k, v).at(0);
                else if (k == "cuda_graphs") o.cuda_graphs = parse_bool(k, v);
                else if (k == "json") json_path = v;
                else if (k == "compare_with") more = split_comma_list(v);
                else mine = false;
                it = mine ? map.erase(it) : std::next(it);
            }
            if (o.new_tokens < 2) throw ConfigError("new_tokens must be ≥ 2", "the first token comes from the prefill");
            o.inference = inference_args(map);
            if (*compare || !more.empty()) {
                const auto reports = run_bench_compare(o, more);
                std::string lines;
                for (const auto& r : reports) lines += bench_json(r) + "\n";
                std::cout << bench_compare_table(reports) << lines << std::flush;
                if (!json_path.empty()) io::write_text_atomically(json_path, lines);
                return 0;
            }
            auto report = run_bench(o);
            std::cout << bench_table(report) << bench_json(report) << std::endl;
            if (!json_path.empty()) io::write_text_atomically(json_path, bench_json(report) + "\n");
            return 0;
        };
    });
}

}  // namespace tb::cli
