// ArgCollector implementation.
#include "cli_args.h"

#include <algorithm>

#include "core/error.h"
#include "core/llamafactory_arguments.h"
#include "core/log.h"

namespace tb::cli {

const std::vector<std::string>& inference_keys() {
    static const std::vector<std::string> k = {
        "model_name_or_path", "adapter_name_or_path", "template", "device", "dtype", "system",
        "do_sample", "temperature", "top_p", "top_k", "repetition_penalty", "max_new_tokens", "seed", "stop", "quantization_bit",
        "flash_attn", "per_device_eval_batch_size"};
    return k;
}

ArgCollector::ArgCollector(CLI::App* app, const std::vector<std::string>& keys, const std::vector<std::string>& flags)
    : app_(app), keys_(keys), flags_(flags.begin(), flags.end()) {
    app->allow_extras();
    std::string list;
    for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
    app->footer("Arguments as LLaMA-Factory takes them: [config.yaml|config.json] [key=value ...] [--key value | "
                "--key=value | --flag [true|false] ...] (later forms win). Keys this command reads: " + list +
                ". LLaMA-Factory's and HF TrainingArguments' other keys are accepted and ignored with one warning.");
}

bool ArgCollector::is_flag(const std::string& key) const {
    const ArgumentKind* kind = llamafactory_argument(key);
    return flags_.count(key) || (kind && *kind == ArgumentKind::Flag);
}

ArgMap ArgCollector::collect() const {
    const std::vector<std::string> args = app_->remaining();
    ArgMap files, overrides, flags;
    std::map<std::string, std::string> spelled;  // key → how it was written, for the unknown-key message
    auto is_bool_word = [](const std::string& v) {
        return v == "true" || v == "True" || v == "false" || v == "False" || v == "1" || v == "0" || v == "yes" || v == "no";
    };
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.rfind("--", 0) == 0 && a.size() > 2) {
            const auto eq = a.find('=');
            std::string key = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
            std::replace(key.begin(), key.end(), '-', '_');  // HF's parser takes --do-train for --do_train
            std::string value;
            const bool negated = key.rfind("no_", 0) == 0 && is_flag(key.substr(3)) && !is_flag(key);
            if (negated) key = key.substr(3);  // HF's --no_<flag>
            const ArgumentKind* kind = llamafactory_argument(key);
            if (eq != std::string::npos) {
                value = a.substr(eq + 1);
            } else if (negated) {
                value = "false";
            } else if (is_flag(key)) {
                value = i + 1 < args.size() && is_bool_word(args[i + 1]) ? args[++i] : "true";
            } else if (kind && *kind == ArgumentKind::List) {
                while (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0)
                    value += (value.empty() ? "" : ",") + args[++i];
            } else if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) {
                value = args[++i];
            } else {
                throw ConfigError("argument " + a + " needs a value", "write " + a + " VALUE or " + a + "=VALUE");
            }
            flags[key] = value;
            spelled[key] = "--" + key;
        } else if (a.find('=') != std::string::npos && a[0] != '-') {
            apply_override(overrides, a);
            spelled[a.substr(0, a.find('='))] = a;
        } else if (a[0] == '-') {
            throw ConfigError("unknown argument " + a, "arguments are --key value, key=value or a YAML file; see --help");
        } else {
            for (auto& [k, v] : read_yaml_args(a)) {
                files.emplace(k, v);  // the first file that sets a key wins, as in LLaMA-Factory's merge
                spelled.emplace(k, "key '" + k + "' in " + a);
            }
        }
    }
    ArgMap map = files;
    for (auto& [k, v] : overrides) map[k] = v;
    for (auto& [k, v] : flags) map[k] = v;
    apply_old_spellings(map);
    std::vector<std::string> known = keys_;
    for (const auto& n : llamafactory_argument_names()) known.push_back(n);
    for (const auto& [k, v] : map) {
        if (std::find(known.begin(), known.end(), k) != known.end()) continue;
        const std::string how = spelled.count(k) ? spelled.at(k) : k;
        const std::string near = nearest_name(k, known);
        const bool flag_form = how.rfind("--", 0) == 0;
        throw ConfigError("unknown argument " + how + (near.empty() ? std::string() : "; did you mean " + std::string(flag_form ? "--" : "") + near + "?"),
                          "LLaMA-Factory and Tunebench refuse keys they do not know; tunebench-cli " + app_->get_name() +
                              " --help lists this command's keys");
    }
    return map;
}

InferenceArgs inference_args(const ArgMap& map) {
    std::vector<std::string> unknown;
    auto a = InferenceArgs::from_map(map, &unknown);
    warn_unknown_keys(unknown, "this command does not use");
    return a;
}

void warn_unknown_keys(const std::vector<std::string>& unknown, const std::string& what) {
    if (unknown.empty()) return;
    std::string list;
    for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
    log::warn("ignoring keys ", what, ": ", list);
}

std::string model_folder(const ArgMap& map) {
    auto it = map.find("model_name_or_path");
    if (it == map.end() || it->second.empty())
        throw ConfigError("model_name_or_path is not set", "pass --model_name_or_path DIR");
    return it->second;
}

}  // namespace tb::cli
