// Small UTF-8 helpers used by the tokenizers (not a Unicode library).
#pragma once

#include <string>

namespace tb::utf8 {

// Length of the UTF-8 sequence starting with lead byte c (1 for invalid leads).
inline size_t sequence_length(unsigned char c) {
    if (c < 0x80) return 1;
    if ((c >> 5) == 0x6) return 2;
    if ((c >> 4) == 0xE) return 3;
    if ((c >> 3) == 0x1E) return 4;
    return 1;
}

// Encodes one code point.
std::string encode(char32_t cp);
std::string encode(const std::u32string& text);
// Replaces invalid or incomplete sequences with U+FFFD, as Python's errors="replace" does.
std::string sanitize(const std::string& bytes);
// The code points of UTF-8 text, sanitized first (a Python str of the same bytes).
std::u32string decode(const std::string& bytes);

// Python's str.isspace() (and re's \s, str.split(), str.strip()): Unicode White_Space plus the
// ASCII separators U+001C..U+001F.
inline bool is_python_space(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

}  // namespace tb::utf8
