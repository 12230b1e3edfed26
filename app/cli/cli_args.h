// Shared CLI plumbing: every subcommand that runs a model takes a YAML file, key=value
// overrides and --key flags with LLaMA-Factory's names, merged into one ArgMap in that order.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "infer/inference_args.h"

namespace tb::cli {

class ArgCollector {
public:
    // Registers the positional [config.yaml] [key=value ...] and a --key option per key.
    ArgCollector(CLI::App* app, const std::vector<std::string>& keys);
    // YAML first, then key=value, then --flags. Warns once about keys nobody reads.
    ArgMap collect() const;

private:
    CLI::App* app_;
    std::vector<std::string> positional_;
    std::map<std::string, std::string> values_;
    std::map<std::string, CLI::Option*> options_;
};

const std::vector<std::string>& inference_keys();
InferenceArgs inference_args(const ArgMap& map);  // warns about unknown keys
// One warning listing the keys a command ignores (nothing when the list is empty).
void warn_unknown_keys(const std::vector<std::string>& unknown, const std::string& what);
// model_name_or_path of the map; ConfigError when unset.
std::string model_folder(const ArgMap& map);

}  // namespace tb::cli
