// Encoding detection: valid UTF-8 wins (GB18030 text is almost never valid UTF-8), otherwise
// glibc's iconv converts from GB18030, a superset of GBK and GB2312.
#include "data/text_encoding.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace tb::data {

bool is_valid_utf8(const std::string& b) {
    size_t i = 0;
    while (i < b.size()) {
        auto c = static_cast<unsigned char>(b[i]);
        size_t n = utf8::sequence_length(c);
        if ((c >= 0x80 && n == 1) || i + n > b.size()) return false;
        for (size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(b[i + k]) & 0xC0) != 0x80) return false;
        }
        i += n;
    }
    return true;
}

std::string to_utf8(const std::string& bytes, const std::string& source, std::string* encoding) {
    if (bytes.rfind("\xEF\xBB\xBF", 0) == 0 && is_valid_utf8(bytes)) {
        if (encoding) *encoding = "utf-8-sig";
        return bytes.substr(3);
    }
    if (is_valid_utf8(bytes)) {
        if (encoding) *encoding = "utf-8";
        return bytes;
    }
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == reinterpret_cast<iconv_t>(-1)) {
        throw FileError(source + " is not UTF-8 and this system cannot convert GB18030",
                        "save the file as UTF-8");
    }
    std::string out(bytes.size() * 2 + 16, '\0');
    char* in = const_cast<char*>(bytes.data());
    size_t in_left = bytes.size();
    char* dst = out.data();
    size_t out_left = out.size();
    while (in_left > 0) {
        if (iconv(cd, &in, &in_left, &dst, &out_left) == static_cast<size_t>(-1)) {
            if (errno == E2BIG) {
                size_t used = dst - out.data();
                out.resize(out.size() * 2);
                dst = out.data() + used;
                out_left = out.size() - used;
                continue;
            }
            size_t offset = bytes.size() - in_left;
            size_t line = 1 + std::count(bytes.begin(), bytes.begin() + offset, '\n');
            iconv_close(cd);
            throw FileError(source + ":" + std::to_string(line) + ": the text is neither UTF-8 nor GB18030/GBK (byte " +
                                std::to_string(offset) + ")",
                            "save the file as UTF-8");
        }
    }
    iconv_close(cd);
    out.resize(dst - out.data());
    if (encoding) *encoding = "gb18030";
    return out;
}

}  // namespace tb::data
