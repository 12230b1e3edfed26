// `convert --csv FILE --output FILE.json --instruction TEXT --input_template T --output_template T`:
// a CSV (UTF-8 or GB18030) → alpaca JSON, optionally registered in a dataset_info.json.
#include "cli_args.h"
#include "commands.h"
#include "core/log.h"
#include "data/csv_convert.h"

namespace tb::cli {

void add_convert(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("convert", "turn a CSV into an alpaca instruction dataset");
    auto o = std::make_shared<data::CsvConvertOptions>();
    sub->add_option("--csv", o->csv, "input CSV (UTF-8 or GBK/GB18030, detected)")->required();
    sub->add_option("--output", o->output, "output .json (array) or .jsonl")->required();
    sub->add_option("--instruction", o->instruction, "the instruction; may use {column} placeholders");
    sub->add_option("--input_template", o->input_template, "the input, e.g. \"title:{title},abstract:{abstract}\"");
    sub->add_option("--output_template", o->output_template, "the expected answer, e.g. \"{label}\"");
    sub->add_option("--system", o->system_template, "optional system prompt ({column} allowed)");
    sub->add_option("--dataset_dir", o->dataset_dir, "register the output in this folder's dataset_info.json");
    sub->add_option("--dataset_name", o->dataset_name, "name of the registry entry");
    sub->add_flag("--overwrite", o->overwrite, "replace an existing --output or registry entry with other contents");
    sub->callback([&run, o] {
        run = [o] {
            auto r = data::convert_csv(*o);
            log::info("converted ", r.rows, " rows (", r.encoding, ") to ", o->output.string(),
                      r.empty_outputs ? " (" + std::to_string(r.empty_outputs) + " with an empty output)" : std::string(),
                      o->dataset_name.empty() ? std::string() : "; registered as '" + o->dataset_name + "'");
            return 0;
        };
    });
}

}  // namespace tb::cli
