// The arguments LLaMA-Factory's command lines and YAML files use: every name its train parser
// knows (HF TrainingArguments included), how HfArgumentParser reads each from a command line, the
// old spellings users still have in scripts, and the nearest known name for a typo. Torch-free.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tb {

enum class ArgumentKind { Value, Flag, List };  // --k v; --k [true|false] (bare: true); --k v1 v2 …

// LLaMA-Factory's kind of `name` (dashes read as underscores), or nullptr when it does not know it.
const ArgumentKind* llamafactory_argument(const std::string& name);
const std::vector<std::string>& llamafactory_argument_names();

// Rewrites old spellings in place, saying what each became: flash_attn true/false (before
// LLaMA-Factory 0.8) → fa2 / disabled, off → disabled; checkpoint_dir → adapter_name_or_path;
// dev_ratio → val_size; max_source_length + max_target_length → cutoff_len (their sum).
void apply_old_spellings(std::map<std::string, std::string>& args);

// The candidate closest to `name` by edit distance, or "" when none is close (a typo of ≤ a third
// of the name, at least 2 edits allowed).
std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace tb
