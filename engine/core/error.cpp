// One-line rendering of engine errors for the CLI and logs.
#include "core/error.h"

namespace tb {

std::string one_line(const Error& e) {
    std::string s = e.what();
    if (!e.hint().empty()) s += " (hint: " + e.hint() + ")";
    return s;
}

std::string first_line(const std::string& message) {
    std::string s;
    for (char c : message) {
        if (c == '\n' || c == '\r') {
            if (!s.empty() && s.back() != ' ') s += ' ';
        } else {
            s += c;
        }
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

}  // namespace tb
