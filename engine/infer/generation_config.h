// Generation settings with LLaMA-Factory's key names and defaults (generating_args.py).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tb {

struct GenerationConfig {
    bool do_sample = true;
    double temperature = 0.95;
    double top_p = 0.7;
    int64_t top_k = 50;
    double repetition_penalty = 1.0;
    int64_t max_new_tokens = 1024;
    uint64_t seed = 42;
    std::vector<int64_t> stop_ids;         // added to the template's eos/stop tokens
    std::vector<std::string> stop_strings; // text that ends the reply (not included)

    void validate() const;  // ConfigError naming the key
};

}  // namespace tb
