// Layout sniffing: ".csv" → CSV; first non-blank byte '[' → JSON array; otherwise JSON Lines.
#include "data/records.h"
#include "io/json_text.h"

#include <algorithm>

#include "core/error.h"
#include "data/csv.h"
#include "data/text_encoding.h"
#include "io/atomic_file.h"

namespace tb::data {
namespace {

int64_t line_of(const std::string& s, size_t offset) {
    return 1 + std::count(s.begin(), s.begin() + std::min(offset, s.size()), '\n');
}

// Start offsets of the top-level elements of a JSON array (string-aware bracket scan).
std::vector<size_t> element_offsets(const std::string& s, size_t open) {
    std::vector<size_t> starts;
    int depth = 0;
    bool in_string = false, expect = true;
    for (size_t i = open; i < s.size(); ++i) {
        char c = s[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (depth == 1 && expect && c != ']') {
            starts.push_back(i);
            expect = false;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') ++depth;
        else if (c == ']' || c == '}') --depth;
        else if (c == ',' && depth == 1) expect = true;
    }
    return starts;
}

std::vector<Record> read_json_array(const std::string& text, const std::string& source, size_t open) {
    nlohmann::json root;
    try {
        root = io::parse_json(text, source);
    } catch (const nlohmann::json::parse_error& e) {
        throw FileError(source + ":" + std::to_string(line_of(text, e.byte ? e.byte - 1 : 0)) +
                            ": invalid JSON: " + e.what(),
                        "check for a missing comma, quote or bracket near that line");
    }
    auto offsets = element_offsets(text, open);
    std::vector<Record> out;
    out.reserve(root.size());
    for (size_t i = 0; i < root.size(); ++i) {
        int64_t line = i < offsets.size() ? line_of(text, offsets[i]) : 0;
        if (!root[i].is_object()) {
            throw FileError(source + ":" + std::to_string(line) + ": row " + std::to_string(i + 1) +
                                " is not a JSON object",
                            "each row should look like {\"instruction\": ..., \"output\": ...}");
        }
        out.push_back({std::move(root[i]), line});
    }
    return out;
}

std::vector<Record> read_json_lines(const std::string& text, const std::string& source) {
    std::vector<Record> out;
    size_t pos = 0;
    int64_t line = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        ++line;
        std::string_view row(text.data() + pos, end - pos);
        pos = end + 1;
        if (row.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        nlohmann::json value;
        try {
            value = io::parse_json(std::string(row), source + ":" + std::to_string(line));
        } catch (const nlohmann::json::parse_error& e) {
            const bool pretty_object = out.empty() && row.find_first_not_of(" \t") != std::string_view::npos &&
                                       row.substr(row.find_first_not_of(" \t")) == "{";
            throw FileError(source + ":" + std::to_string(line) + ": invalid JSON Lines row: " + e.what(),
                            pretty_object ? "the file looks like one pretty-printed object; use a JSON array [ {...}, ... ] "
                                            "or one object per line"
                                          : "JSON Lines needs one complete JSON object per line");
        }
        if (!value.is_object()) {
            throw FileError(source + ":" + std::to_string(line) + ": row is not a JSON object",
                            "each line should look like {\"instruction\": ..., \"output\": ...}");
        }
        out.push_back({std::move(value), line});
    }
    return out;
}

}  // namespace

std::vector<Record> read_records(const std::filesystem::path& path) {
    auto ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext == ".csv") {
        auto table = read_csv(path);
        std::vector<Record> out;
        out.reserve(table.rows.size());
        for (size_t r = 0; r < table.rows.size(); ++r) {
            nlohmann::json obj = nlohmann::json::object();
            for (size_t c = 0; c < table.header.size(); ++c) obj[table.header[c]] = table.rows[r][c];
            out.push_back({std::move(obj), table.row_lines[r]});
        }
        return out;
    }
    auto text = to_utf8(io::read_file(path), path.string());
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    if (text[first] == '[') return read_json_array(text, path.string(), first);
    return read_json_lines(text, path.string());
}

CsvTable read_table(const std::filesystem::path& path) {
    auto ext = path.extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == ".csv") return read_csv(path);
    CsvTable t;
    t.encoding = "UTF-8";
    const auto records = read_records(path);
    for (const auto& r : records)
        for (auto it = r.value.begin(); it != r.value.end(); ++it)
            if (t.column(it.key()) < 0) t.header.push_back(it.key());
    for (const auto& r : records) {
        std::vector<std::string> row;
        for (const auto& h : t.header) {
            const auto it = r.value.find(h);
            row.push_back(it == r.value.end() || it->is_null() ? std::string() : it->is_string() ? it->get<std::string>() : it->dump());
        }
        t.rows.push_back(std::move(row));
        t.row_lines.push_back(r.line);
    }
    return t;
}

}  // namespace tb::data
