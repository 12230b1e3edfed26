// A small CSV state machine; quoting follows Python's csv (minimal quoting when writing).
#include "data/csv.h"

#include "core/error.h"
#include "data/text_encoding.h"
#include "io/atomic_file.h"

namespace tb::data {

int CsvTable::column(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i) {
        if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
}

CsvTable read_csv(const std::filesystem::path& path) {
    std::string encoding;
    auto text = to_utf8(io::read_file(path), path.string(), &encoding);
    auto table = parse_csv(text, path.string());
    table.encoding = encoding;
    return table;
}

CsvTable parse_csv(const std::string& s, const std::string& source) {
    CsvTable t;
    std::vector<std::string> row;
    std::string field;
    bool quoted = false, field_started = false;
    int64_t line = 1, row_line = 1, quote_line = 0;
    auto end_row = [&] {
        row.push_back(std::move(field));
        field.clear();
        field_started = false;
        bool blank = row.size() == 1 && row[0].empty();
        if (!blank) {
            if (t.header.empty() && t.rows.empty()) {
                t.header = std::move(row);
            } else if (row.size() != t.header.size()) {
                throw FileError(source + ":" + std::to_string(row_line) + ": row has " + std::to_string(row.size()) +
                                    " fields but the header has " + std::to_string(t.header.size()),
                                "quote fields that contain commas or line breaks with \"...\"");
            } else {
                t.rows.push_back(std::move(row));
                t.row_lines.push_back(row_line);
            }
        }
        row.clear();
    };
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < s.size() && s[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                if (c == '\n') ++line;
                field += c;
            }
            continue;
        }
        if (c == '"' && !field_started) {
            quoted = true;
            field_started = true;
            quote_line = line;
        } else if (c == ',') {
            row.push_back(std::move(field));
            field.clear();
            field_started = false;
        } else if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
            continue;  // CRLF: the '\n' ends the row
        } else if (c == '\n') {
            end_row();
            ++line;
            row_line = line;
        } else {
            field += c;
            field_started = true;
        }
    }
    if (quoted) {
        throw FileError(source + ":" + std::to_string(quote_line) + ": a quoted field is never closed",
                        "a field that starts with \" must end with \"; write a quote inside it as \"\"");
    }
    if (!field.empty() || !row.empty()) end_row();
    if (t.header.empty()) throw FileError(source + " is empty", "a CSV file needs a header line naming its columns");
    return t;
}

std::string csv_line(const std::vector<std::string>& fields) {
    std::string out;
    for (size_t i = 0; i < fields.size(); ++i) {
        if (i) out += ',';
        const auto& f = fields[i];
        if (f.find_first_of(",\"\r\n") == std::string::npos) {
            out += f;
            continue;
        }
        out += '"';
        for (char c : f) {
            if (c == '"') out += '"';
            out += c;
        }
        out += '"';
    }
    out += '\n';
    return out;
}

}  // namespace tb::data
