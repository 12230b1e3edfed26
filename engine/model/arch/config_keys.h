// Reading config.json keys with errors that name the file, the key, what was found and what was
// expected (the model families' readers in engine/model/arch/ share it). No torch here.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/json_text.h"

namespace tb {

struct ConfigKeys {
    const nlohmann::json& j;
    std::string source;

    [[noreturn]] void fail(const std::string& key, const std::string& expected) const {
        std::string found = j.contains(key) ? io::json_excerpt(j[key]) : "nothing";
        throw ConfigError(source + ": key '" + key + "' should be " + expected + ", found " + found,
                          "fix config.json or re-download the model's config");
    }
    int64_t integer(const std::string& key) const {
        if (!j.contains(key) || !j[key].is_number_integer()) fail(key, "an integer");
        return j[key].get<int64_t>();
    }
    int64_t integer_or(const std::string& key, int64_t dflt) const {
        if (!j.contains(key) || j[key].is_null()) return dflt;
        return integer(key);
    }
    double number_or(const std::string& key, double dflt) const {
        if (!j.contains(key) || j[key].is_null()) return dflt;
        if (!j[key].is_number()) fail(key, "a number");
        return j[key].get<double>();
    }
    bool boolean_or(const std::string& key, bool dflt) const {
        if (!j.contains(key) || j[key].is_null()) return dflt;
        if (!j[key].is_boolean()) fail(key, "true or false");
        return j[key].get<bool>();
    }
    std::string string_or(const std::string& key, const std::string& dflt) const {
        if (!j.contains(key) || j[key].is_null()) return dflt;
        if (!j[key].is_string()) fail(key, "a string");
        return j[key].get<std::string>();
    }
    std::vector<int64_t> ids(const std::string& key) const {
        std::vector<int64_t> out;
        if (!j.contains(key) || j[key].is_null()) return out;
        if (j[key].is_number_integer()) return {j[key].get<int64_t>()};
        if (!j[key].is_array()) fail(key, "an integer or a list of integers");
        for (const auto& v : j[key]) {
            if (!v.is_number_integer()) fail(key, "an integer or a list of integers");
            out.push_back(v.get<int64_t>());
        }
        return out;
    }
};


}  // namespace tb
