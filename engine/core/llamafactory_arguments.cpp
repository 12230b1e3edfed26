#include "core/llamafactory_arguments.h"

#include <algorithm>
#include <utility>

#include "core/log.h"

namespace tb {
namespace {

constexpr ArgumentKind kValue = ArgumentKind::Value, kFlag = ArgumentKind::Flag, kList = ArgumentKind::List;

const std::map<std::string, ArgumentKind>& table() {
    static const std::map<std::string, ArgumentKind> t = {
#include "core/llamafactory_arguments_table.inc"
    };
    return t;
}

size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

}  // namespace

const ArgumentKind* llamafactory_argument(const std::string& name) {
    std::string n = name;
    std::replace(n.begin(), n.end(), '-', '_');
    const auto it = table().find(n);
    return it == table().end() ? nullptr : &it->second;
}

const std::vector<std::string>& llamafactory_argument_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& [k, kind] : table()) v.push_back(k);
        return v;
    }();
    return names;
}

void apply_old_spellings(std::map<std::string, std::string>& args) {
    if (auto it = args.find("flash_attn"); it != args.end()) {
        std::string v = it->second, lower = v;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        if (lower == "true" || lower == "1") it->second = "fa2";
        if (lower == "false" || lower == "0" || lower == "off") it->second = "disabled";
        if (it->second != v) log::info("flash_attn ", v, " (an older LLaMA-Factory spelling) read as flash_attn ", it->second);
    }
    for (const auto& [old_name, name] : {std::pair<const char*, const char*>{"checkpoint_dir", "adapter_name_or_path"},
                                         {"dev_ratio", "val_size"}}) {
        auto it = args.find(old_name);
        if (it == args.end()) continue;
        if (!args.count(name)) {
            args[name] = it->second;
            log::info(old_name, " (an older LLaMA-Factory name) read as ", name);
        } else {
            log::warn(old_name, " (an older LLaMA-Factory name) ignored: ", name, " is also set");
        }
        args.erase(it);
    }
    const auto source = args.find("max_source_length"), target = args.find("max_target_length");
    if (source != args.end() && target != args.end() && !args.count("cutoff_len")) {
        try {
            const long long sum = std::stoll(source->second) + std::stoll(target->second);
            args["cutoff_len"] = std::to_string(sum);
            log::info("max_source_length + max_target_length (older LLaMA-Factory names) read as cutoff_len ", sum);
            args.erase("max_source_length");
            args.erase("max_target_length");
        } catch (const std::exception&) {  // left for the key checks to name
        }
    }
}

std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates) {
    std::string best;
    size_t best_distance = std::max<size_t>(2, name.size() / 3) + 1;
    for (const auto& c : candidates) {
        const size_t d = edit_distance(name, c);
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    return best;
}

}  // namespace tb
