#include "core/arg_values.h"

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
        if (n == v.size()) return d;
    } catch (const std::exception&) {
    }
    throw ConfigError(key + " should be a number, found '" + v + "'");
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

}  // namespace tb
