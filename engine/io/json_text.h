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

}  // namespace tb::io
