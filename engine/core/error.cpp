// One-line rendering of engine errors for the CLI and logs.
#include "core/error.h"

namespace tb {

std::string one_line(const Error& e) {
    std::string s = e.what();
    if (!e.hint().empty()) s += " (hint: " + e.hint() + ")";
    return s;
}

}  // namespace tb
