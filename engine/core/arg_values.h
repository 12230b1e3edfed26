// Typed values of string-map arguments (YAML, key=value, --flags); errors name the key and value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tb {

bool parse_bool(const std::string& key, const std::string& value);
double parse_double(const std::string& key, const std::string& value);
int64_t parse_int(const std::string& key, const std::string& value);
// ConfigError "key 'value' is not supported" listing the allowed values.
void check_choice(const std::string& key, const std::string& value, const std::vector<const char*>& allowed);

// LLaMA-Factory's flash_attn values (model/attention.h says what each does).
const std::vector<const char*>& flash_attn_choices();

}  // namespace tb
