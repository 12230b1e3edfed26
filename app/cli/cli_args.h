// Shared CLI plumbing: every subcommand that runs a model takes its arguments as LLaMA-Factory's
// command lines do — a YAML (or JSON) file, key=value overrides, --key value / --key=value and bare
// --flag for true/false keys — with LLaMA-Factory's names, merged into one ArgMap in that order.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "infer/inference_args.h"

namespace tb::cli {

class ArgCollector {
public:
    // `keys`: what this command reads; `flags`: those of them that are true/false and that
    // LLaMA-Factory does not already know as flags. The subcommand keeps what its own CLI11 options
    // do not match (allow_extras) for collect(); --help lists the keys.
    ArgCollector(CLI::App* app, const std::vector<std::string>& keys, const std::vector<std::string>& flags = {});
    // The file(s) first, then key=value, then --keys; old spellings rewritten (apply_old_spellings).
    // A name neither this command nor LLaMA-Factory knows is a ConfigError naming the nearest known
    // one ("unknown argument --bp16; did you mean --bf16?"); the command warns once about the known
    // names it ignores.
    ArgMap collect() const;

private:
    bool is_flag(const std::string& key) const;

    CLI::App* app_;
    std::vector<std::string> keys_;
    std::set<std::string> flags_;
};

const std::vector<std::string>& inference_keys();
InferenceArgs inference_args(const ArgMap& map);  // warns about unknown keys
// One warning listing the keys a command ignores (nothing when the list is empty).
void warn_unknown_keys(const std::vector<std::string>& unknown, const std::string& what);
// model_name_or_path of the map; ConfigError when unset.
std::string model_folder(const ArgMap& map);

}  // namespace tb::cli
