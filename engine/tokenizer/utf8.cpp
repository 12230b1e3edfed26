// UTF-8 encode, decode and sanitise.
#include "tokenizer/utf8.h"

namespace tb::utf8 {

std::string encode(char32_t cp) {
    std::string s;
    if (cp < 0x80) {
        s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    return s;
}

std::string encode(const std::u32string& text) {
    std::string s;
    for (char32_t c : text) s += encode(c);
    return s;
}

std::u32string decode(const std::string& bytes) {
    const std::string s = sanitize(bytes);
    std::u32string out;
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const size_t n = sequence_length(c);
        char32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
        for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        out.push_back(cp);
        i += n;
    }
    return out;
}

std::string sanitize(const std::string& b) {
    std::string out;
    out.reserve(b.size());
    size_t i = 0;
    while (i < b.size()) {
        auto c = static_cast<unsigned char>(b[i]);
        size_t n = sequence_length(c);
        bool ok = !(c >= 0x80 && n == 1) && i + n <= b.size();
        char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
        for (size_t k = 1; ok && k < n; ++k) {
            ok = (static_cast<unsigned char>(b[i + k]) & 0xC0) == 0x80;
            cp = (cp << 6) | (static_cast<unsigned char>(b[i + k]) & 0x3F);
        }
        // Strict as Python's decoder: no overlong forms, surrogates or code points past U+10FFFF.
        static constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
        ok = ok && cp >= kSmallest[n] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (ok) {
            out.append(b, i, n);
            i += n;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
            while (i < b.size() && (static_cast<unsigned char>(b[i]) & 0xC0) == 0x80) ++i;
        }
    }
    return out;
}

}  // namespace tb::utf8
