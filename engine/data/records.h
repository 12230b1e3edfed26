// Rows of a data file as JSON objects, whatever the file's layout: a JSON array (pretty or on
// one line), JSON Lines (any extension: .json, .jsonl, .txt) or CSV (every field a string).
// Each row remembers the line it starts on, so errors can name file:line.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/csv.h"

namespace tb::data {

struct Record {
    nlohmann::json value;  // an object
    int64_t line = 0;
};

// FileError naming file and line for malformed JSON, a row that is not an object, or bad CSV.
std::vector<Record> read_records(const std::filesystem::path& path);

// Any data file as a table: CSV as it is; JSON / JSON Lines rows with the keys in first-seen
// order as columns (strings as they are, other values as JSON text, a missing key as "").
CsvTable read_table(const std::filesystem::path& path);

}  // namespace tb::data
