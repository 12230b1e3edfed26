// CSV as RFC 4180 and Python's csv module read it: comma-separated, fields in double quotes may
// hold commas, "" and line breaks; LF or CRLF line ends; UTF-8 or GB18030 (converted on read).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tb::data {

struct CsvTable {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;  // each has header.size() fields
    std::vector<int64_t> row_lines;              // 1-based line where each row starts
    std::string encoding;                        // what the file was in
    int column(const std::string& name) const;   // -1 when absent
};

// FileError with file:line for an unterminated quote or a row whose field count differs from
// the header's. Blank lines are skipped.
CsvTable read_csv(const std::filesystem::path& path);
CsvTable parse_csv(const std::string& utf8_text, const std::string& source);

// One CSV line (with "\n"), quoting fields that need it.
std::string csv_line(const std::vector<std::string>& fields);

}  // namespace tb::data
