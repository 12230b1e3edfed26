// Typed reading of the shared string map; every error names the key and the value found.
#include "infer/inference_args.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "core/arg_values.h"
#include "core/error.h"
#include "core/llamafactory_arguments.h"

namespace tb {

InferenceArgs InferenceArgs::from_map(const ArgMap& given, std::vector<std::string>* unknown) {
    ArgMap args = given;
    apply_old_spellings(args);
    InferenceArgs a;
    auto& g = a.generation;
    static const std::set<std::string> known = {
        "model_name_or_path", "adapter_name_or_path", "template", "device", "dtype", "infer_dtype",
        "system", "default_system", "do_sample", "temperature", "top_p", "top_k", "repetition_penalty",
        "max_new_tokens", "seed", "stop", "infer_backend", "quantization_bit", "flash_attn",
        "per_device_eval_batch_size", "enable_thinking", "preserve_thinking"};
    for (const auto& [k, v] : args) {
        if (k == "model_name_or_path") a.model_name_or_path = v;
        else if (k == "adapter_name_or_path") a.adapter_name_or_path = v;
        else if (k == "template") a.template_name = v;
        else if (k == "device") a.device = v;
        else if (k == "dtype" || k == "infer_dtype") a.dtype = v;
        else if (k == "system" || k == "default_system") a.system = v;
        else if (k == "enable_thinking") a.thinking.enable_thinking = parse_bool(k, v);
        else if (k == "preserve_thinking") a.thinking.preserve_thinking = parse_bool(k, v);
        else if (k == "do_sample") g.do_sample = parse_bool(k, v);
        else if (k == "temperature") g.temperature = parse_double(k, v);
        else if (k == "top_p") g.top_p = parse_double(k, v);
        else if (k == "top_k") g.top_k = parse_int(k, v);
        else if (k == "repetition_penalty") g.repetition_penalty = parse_double(k, v);
        else if (k == "max_new_tokens") g.max_new_tokens = parse_int(k, v);
        else if (k == "per_device_eval_batch_size") {
            a.per_device_eval_batch_size = parse_int(k, v);
            if (a.per_device_eval_batch_size < 1 || a.per_device_eval_batch_size > 4096)
                throw ConfigError("per_device_eval_batch_size " + v + " is out of range", "use 1 … 4096 rows decoded together");
        } else if (k == "quantization_bit") a.quantization_bit = v.empty() ? 0 : static_cast<int>(parse_int(k, v));
        else if (k == "flash_attn") {
            check_choice(k, v, flash_attn_choices());
            a.flash_attn = v;
        } else if (k == "seed") g.seed = static_cast<uint64_t>(parse_int(k, v));
        else if (k == "stop") {
            if (!v.empty()) g.stop_strings.push_back(v);
        } else if (k == "infer_backend") {
            if (v != "huggingface" && v != "tunebench") {
                throw UnsupportedError("infer_backend '" + v + "' is not supported", "Tunebench runs its own engine; remove the key");
            }
        }
        if (unknown && !known.count(k)) unknown->push_back(k);
    }
    if (a.model_name_or_path.empty()) {
        throw ConfigError("model_name_or_path is not set", "pass --model_name_or_path DIR or put it in the YAML file");
    }
    g.validate();
    return a;
}

ArgMap read_yaml_args(const std::filesystem::path& path) {
    YAML::Node root;
    try {
        root = YAML::LoadFile(path.string());
    } catch (const YAML::BadFile&) {
        throw FileError("cannot read " + path.string(), "check the path of the YAML file");
    } catch (const YAML::Exception& e) {
        throw FileError(path.string() + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg,
                        "YAML needs 'key: value' lines");
    }
    if (root.IsNull()) return {};
    if (!root.IsMap()) throw FileError(path.string() + " is not a YAML mapping of key: value lines");
    ArgMap out;
    for (const auto& kv : root) {
        const int line = kv.first.Mark().line + 1;
        const std::string where = path.string() + ":" + std::to_string(line);
        if (!kv.first.IsScalar()) throw ConfigError(where + ": a key should be a plain name", "YAML needs 'key: value' lines");
        const auto key = kv.first.as<std::string>();
        if (kv.second.IsScalar()) {
            out[key] = kv.second.as<std::string>();
        } else if (kv.second.IsNull()) {
            continue;
        } else if (kv.second.IsSequence()) {
            std::string joined;
            for (const auto& e : kv.second) {
                if (!e.IsScalar())
                    throw ConfigError(where + ": key '" + key + "' should list plain values", "e.g. [a, b] or a comma list");
                joined += (joined.empty() ? "" : ",") + e.as<std::string>();
            }
            out[key] = joined;
        } else {
            throw ConfigError(path.string() + ":" + std::to_string(kv.second.Mark().line + 1) + ": key '" + key +
                              "' should be a single value");
        }
    }
    return out;
}

void apply_override(ArgMap& args, const std::string& kv) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw ConfigError("override '" + kv + "' is not key=value", "write overrides as key=value, e.g. temperature=0.7");
    }
    args[kv.substr(0, eq)] = kv.substr(eq + 1);
}

}  // namespace tb
