// LLaMA-Factory's comma-separated values (dataset, lora_target, adapter_name_or_path):
// items trimmed, empty ones dropped.
#pragma once

#include <string>
#include <vector>

namespace tb {

inline std::vector<std::string> split_comma_list(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(',', start);
        if (end == std::string::npos) end = s.size();
        std::string item = s.substr(start, end - start);
        const auto first = item.find_first_not_of(" \t"), last = item.find_last_not_of(" \t");
        if (first != std::string::npos) out.push_back(item.substr(first, last - first + 1));
        start = end + 1;
    }
    return out;
}

}  // namespace tb
