#include "core/arg_values.h"

#include <cmath>

#include "core/error.h"

namespace tb {

bool parse_bool(const std::string& key, const std::string& v) {
    if (v == "true" || v == "True" || v == "1" || v == "yes") return true;
    if (v == "false" || v == "False" || v == "0" || v == "no") return false;
    throw ConfigError(key + " should be true or false, found '" + v + "'");
}

double parse_double(const std::string& key, const std::string& v) {
    try {
        size_t n = 0;
        double d = std::stod(v, &n);
        if (n == v.size() && std::isfinite(d)) return d;
    } catch (const std::exception&) {
    }
    // nan / inf parse as numbers but poison whatever uses them (an all-NaN adapter saved with exit 0)
    throw ConfigError(key + " should be a finite number, found '" + v + "'");
}

int64_t parse_int(const std::string& key, const std::string& v) {
    try {
        size_t n = 0;
        long long i = std::stoll(v, &n);
        if (n == v.size()) return i;
    } catch (const std::exception&) {
    }
    throw ConfigError(key + " should be an integer, found '" + v + "'");
}

void check_choice(const std::string& key, const std::string& v, const std::vector<const char*>& allowed) {
    std::string list;
    for (const char* a : allowed) {
        if (v == a) return;
        list += (list.empty() ? "" : ", ") + std::string(a);
    }
    throw ConfigError(key + " '" + v + "' is not supported", "use one of: " + list);
}

const std::vector<const char*>& flash_attn_choices() {
    static const std::vector<const char*> c = {"auto", "fa2", "sdpa", "disabled"};
    return c;
}

}  // namespace tb
