// Every occurrence of `from` in s replaced by `to`, left to right (Python's str.replace).
#pragma once

#include <string>

namespace tb {

inline std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    if (from.empty()) return s;
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
    return s;
}

}  // namespace tb
