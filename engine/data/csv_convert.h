// CSV (or JSON / JSON Lines, read as a table) → alpaca JSON: each row becomes {instruction, input, output} by filling {column}
// placeholders, e.g. a labelled paper CSV → "is this paper medical?" classification examples.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tb::data {

struct CsvConvertOptions {
    std::filesystem::path csv;        // .csv, or .json / .jsonl rows (data/records.h read_table)
    std::filesystem::path output;     // .json (array) or .jsonl
    std::string instruction;          // may hold {column} placeholders too
    std::string input_template;       // e.g. "title:{title},abstract:{abstract}"
    std::string output_template;      // e.g. "{label}"
    std::string system_template;      // optional
    std::filesystem::path dataset_dir;  // with dataset_name: register in its dataset_info.json
    std::string dataset_name;
    // Replace an existing output file or a registry entry of the same name with other contents.
    // Without it those are refused (an identical rerun is fine): the user says yes first.
    bool overwrite = false;
};

struct CsvConvertReport {
    int64_t rows = 0;
    int64_t empty_outputs = 0;
    std::string encoding;
};

// Fills "{column}" from a header → value row; "{{" and "}}" are literal braces. ConfigError naming
// an unknown column and listing the known ones.
std::string fill_template(const std::string& tmpl, const std::vector<std::string>& header,
                          const std::vector<std::string>& row, const std::string& option_name);

// Writes the output atomically (never half-written) and, if asked, registers it.
CsvConvertReport convert_csv(const CsvConvertOptions& options);

}  // namespace tb::data
