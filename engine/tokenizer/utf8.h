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
// Replaces invalid or incomplete sequences with U+FFFD, as Python's errors="replace" does.
std::string sanitize(const std::string& bytes);

}  // namespace tb::utf8
