// Typed values of string-map arguments (YAML, key=value, --flags); errors name the key and value.
#pragma once

#include <cstdint>
#include <string>

namespace tb {

bool parse_bool(const std::string& key, const std::string& value);
double parse_double(const std::string& key, const std::string& value);
int64_t parse_int(const std::string& key, const std::string& value);

}  // namespace tb
