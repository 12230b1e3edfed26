// JSON from a user's file, with its nesting limited: nlohmann's parser is iterative but its
// serializer recurses once per level, so a 100,000-deep file (a damaged dataset_info.json) would
// overflow the stack when written back. Parse errors propagate as nlohmann::json::parse_error.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace tb::io {

constexpr int kMaxJsonDepth = 512;  // far beyond any dataset, config or tokenizer file

// FileError "<where>: JSON nested deeper than 512 levels" when too deep.
nlohmann::json parse_json(const std::string& text, const std::string& where);
nlohmann::ordered_json parse_ordered_json(const std::string& text, const std::string& where);

// JSON text of a value that may hold bytes that are not UTF-8 (a CSV cell, a merges.txt line):
// such bytes become U+FFFD instead of nlohmann's type_error.
std::string dump_json(const nlohmann::json& value, int indent = -1);
std::string dump_json(const nlohmann::ordered_json& value, int indent = -1);
// The start of dump_json(value) for a message, cut on a character boundary.
std::string json_excerpt(const nlohmann::json& value, size_t max_bytes = 60);

}  // namespace tb::io
