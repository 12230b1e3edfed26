// The converter behind `tunebench-cli convert` (and the Datasets tab later).
#include "data/csv_convert.h"
#include "io/json_text.h"

#include "data/records.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "data/csv.h"
#include "data/dataset_registry.h"
#include "io/atomic_file.h"

namespace tb::data {
namespace fs = std::filesystem;

std::string fill_template(const std::string& t, const std::vector<std::string>& header,
                          const std::vector<std::string>& row, const std::string& option_name) {
    std::string out;
    for (size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '{' && i + 1 < t.size() && t[i + 1] == '{') {
            out += '{';
            ++i;
        } else if (t[i] == '}' && i + 1 < t.size() && t[i + 1] == '}') {
            out += '}';
            ++i;
        } else if (t[i] == '{') {
            size_t close = t.find('}', i);
            if (close == std::string::npos) {
                throw ConfigError(option_name + ": '{' without a closing '}' in \"" + t + "\"",
                                  "write {column} for a value and {{ for a literal brace");
            }
            std::string name = t.substr(i + 1, close - i - 1);
            size_t c = 0;
            while (c < header.size() && header[c] != name) ++c;
            if (c == header.size()) {
                std::string known;
                for (const auto& h : header) known += (known.empty() ? "" : ", ") + h;
                throw ConfigError(option_name + ": column '" + name + "' is not in the CSV", "columns: " + known);
            }
            out += row[c];
            i = close;
        } else {
            out += t[i];
        }
    }
    return out;
}

CsvConvertReport convert_csv(const CsvConvertOptions& o) {
    if (o.output.empty()) throw ConfigError("--output is not set", "name the JSON file to write");
    if (o.instruction.empty() && o.input_template.empty()) {
        throw ConfigError("neither --instruction nor --input_template is set", "say what the model is asked");
    }
    auto table = read_table(o.csv);
    CsvConvertReport report;
    report.encoding = table.encoding;
    const bool jsonl = o.output.extension() == ".jsonl";
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    std::string lines;
    for (size_t r = 0; r < table.rows.size(); ++r) {
        const auto& row = table.rows[r];
        nlohmann::ordered_json ex;
        ex["instruction"] = fill_template(o.instruction, table.header, row, "--instruction");
        ex["input"] = fill_template(o.input_template, table.header, row, "--input_template");
        ex["output"] = fill_template(o.output_template, table.header, row, "--output_template");
        if (!o.system_template.empty()) ex["system"] = fill_template(o.system_template, table.header, row, "--system");
        if (ex["output"].get<std::string>().empty()) {
            if (report.empty_outputs == 0) {
                log::warn(o.csv.string(), ":", table.row_lines[r], ": empty output (training skips such rows)");
            }
            ++report.empty_outputs;
        }
        if (jsonl) lines += io::dump_json(ex) + "\n";
        else rows.push_back(std::move(ex));
    }
    report.rows = static_cast<int64_t>(table.rows.size());
    const std::string text = jsonl ? lines : io::dump_json(rows, 2) + "\n";
    // Nothing the user made is replaced without a yes; an identical rerun changes nothing.
    if (!o.overwrite && fs::exists(o.output) && (!fs::is_regular_file(o.output) || io::read_file(o.output) != text)) {
        throw ConfigError("--output " + o.output.string() + " already exists with other contents",
                          "choose a new file name, or pass --overwrite to replace it");
    }
    DatasetAttr a;
    if (!o.dataset_name.empty()) {  // a registration that will fail must fail before the output is written
        if (o.dataset_dir.empty()) throw ConfigError("--dataset_name needs --dataset_dir");
        check_registry_writable(o.dataset_dir);
        a.name = o.dataset_name;
        auto rel = fs::absolute(o.output).lexically_relative(fs::absolute(o.dataset_dir));
        const bool inside = !rel.empty() && rel.begin()->string() != "..";
        a.file_name = inside ? rel.string() : fs::absolute(o.output).string();
        if (!o.system_template.empty()) a.columns = {{"prompt", "instruction"}, {"query", "input"}, {"response", "output"}, {"system", "system"}};
        if (!o.overwrite && fs::exists(o.dataset_dir / "dataset_info.json")) {
            const auto known = read_dataset_info(o.dataset_dir);
            const auto it = known.find(a.name);
            if (it != known.end() && (it->second.file_name != a.file_name || it->second.formatting != a.formatting ||
                                      it->second.columns != a.columns)) {
                throw ConfigError("dataset '" + a.name + "' is already registered in " +
                                      (o.dataset_dir / "dataset_info.json").string() + " (file " + it->second.file_name + ")",
                                  "choose another --dataset_name, or pass --overwrite to replace that entry");
            }
        }
    }
    if (!o.output.parent_path().empty()) fs::create_directories(o.output.parent_path());
    io::write_text_atomically(o.output, text);
    if (!o.dataset_name.empty()) {
        fs::create_directories(o.dataset_dir);
        register_dataset(o.dataset_dir, a);
    }
    return report;
}

}  // namespace tb::data
