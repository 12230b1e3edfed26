// Sharding follows transformers' split_torch_state_dict_into_shards: tensors in order, a new
// shard when the next tensor would overflow the current one (a tensor larger than the limit gets
// its own shard).
#include "io/sharded_writer.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "io/atomic_file.h"

namespace tb::io {
namespace fs = std::filesystem;

ShardReport save_sharded(const fs::path& folder, const NamedTensors& tensors, int64_t max_bytes, bool legacy) {
    std::vector<NamedTensors> shards(1);
    int64_t current = 0, total = 0;
    // a quantized weight's parts stay in its shard (transformers reads them together): 4-bit
    // "M.weight.absmax", … after "M.weight"; 8-bit "M.SCB" and "M.weight_format"
    std::string group;
    auto part_of = [](const std::string& g, const std::string& name) {
        if (name.rfind(g + ".", 0) == 0) return true;
        const std::string module = g.size() > 7 && g.compare(g.size() - 7, 7, ".weight") == 0 ? g.substr(0, g.size() - 7) : "";
        return !module.empty() && (name == module + ".SCB" || name == module + ".weight_format");
    };
    for (const auto& [name, t] : tensors) {
        const int64_t bytes = t.numel() * t.element_size();
        const bool part = !group.empty() && part_of(group, name);
        if (!part) group = name;
        if (!part && current > 0 && current + bytes > max_bytes) {
            shards.emplace_back();
            current = 0;
        }
        shards.back().emplace_back(name, t);
        current += bytes;
        total += bytes;
    }
    fs::create_directories(folder);
    const std::string stem = legacy ? "pytorch_model" : "model", ext = legacy ? ".bin" : ".safetensors";
    auto save = [&](const fs::path& p, const NamedTensors& t) { legacy ? save_torch_bin(p, t) : save_safetensors(p, t); };
    if (shards.size() == 1) {
        save(folder / (stem + ext), shards[0]);
        return {1, total};
    }
    nlohmann::ordered_json index = {{"metadata", {{"total_size", total}}}, {"weight_map", nlohmann::ordered_json::object()}};
    const int n = static_cast<int>(shards.size());
    for (int i = 0; i < n; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "%s-%05d-of-%05d%s", stem.c_str(), i + 1, n, ext.c_str());
        save(folder / name, shards[i]);
        for (const auto& [k, t] : shards[i]) index["weight_map"][k] = name;
    }
    write_text_atomically(folder / (stem + ext + ".index.json"), index.dump(2) + "\n");
    return {n, total};
}

}  // namespace tb::io
