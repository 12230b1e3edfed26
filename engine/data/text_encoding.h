// Text files arrive as UTF-8 (with or without BOM) or, from Chinese Windows tools, GBK/GB18030.
// Everything inside the engine is UTF-8; this is the one place that converts.
#pragma once

#include <string>

namespace tb::data {

bool is_valid_utf8(const std::string& bytes);

// Returns the text as UTF-8 and names the encoding found ("utf-8", "utf-8-sig", "gb18030").
// FileError naming `source` when the bytes are neither.
std::string to_utf8(const std::string& bytes, const std::string& source, std::string* encoding = nullptr);

}  // namespace tb::data
