// ArgCollector implementation.
#include "cli_args.h"

#include "core/error.h"
#include "core/log.h"

namespace tb::cli {

const std::vector<std::string>& inference_keys() {
    static const std::vector<std::string> k = {
        "model_name_or_path", "adapter_name_or_path", "template", "device", "dtype", "system",
        "do_sample", "temperature", "top_p", "top_k", "repetition_penalty", "max_new_tokens", "seed", "stop", "quantization_bit",
        "flash_attn", "per_device_eval_batch_size"};
    return k;
}

ArgCollector::ArgCollector(CLI::App* app, const std::vector<std::string>& keys) : app_(app) {
    app->add_option("args", positional_, "[config.yaml] [key=value ...]");
    for (const auto& k : keys) options_[k] = app->add_option("--" + k, values_[k]);
}

ArgMap ArgCollector::collect() const {
    ArgMap map;
    for (const auto& p : positional_) {
        if (p.find('=') != std::string::npos) apply_override(map, p);
        else {
            auto yaml = read_yaml_args(p);
            for (auto& [k, v] : yaml) map.emplace(k, v);  // YAML never overrides key=value
        }
    }
    for (const auto& [k, opt] : options_)
        if (opt->count() > 0) map[k] = values_.at(k);
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
