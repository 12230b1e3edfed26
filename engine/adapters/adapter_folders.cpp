#include "adapters/adapter_folders.h"

#include <algorithm>

namespace tb {
namespace fs = std::filesystem;
namespace {

bool is_adapter(const fs::path& p) { return fs::exists(p / "adapter_config.json"); }

long checkpoint_step(const fs::path& p) {
    const auto name = p.filename().string();
    if (name.rfind("checkpoint-", 0) != 0) return -1;
    try {
        return std::stol(name.substr(11));
    } catch (const std::exception&) {
        return -1;
    }
}

void collect_run(const fs::path& run, const std::string& prefix, std::vector<AdapterFolder>& finals,
                 std::vector<std::pair<long, AdapterFolder>>& checkpoints) {
    if (is_adapter(run)) finals.push_back({run, prefix.empty() ? "final" : prefix + " (final)"});
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(run, ec)) {
        const long step = checkpoint_step(e.path());
        if (e.is_directory() && step >= 0 && is_adapter(e.path()))
            checkpoints.push_back({step, {e.path(), (prefix.empty() ? "" : prefix + "/") + e.path().filename().string()}});
    }
}

}  // namespace

std::vector<AdapterFolder> find_adapters(const fs::path& folder) {
    std::vector<AdapterFolder> finals;
    std::vector<std::pair<long, AdapterFolder>> checkpoints;
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) return {};
    collect_run(folder, "", finals, checkpoints);
    if (finals.empty() && checkpoints.empty()) {  // a folder of runs
        for (const auto& e : fs::directory_iterator(folder, ec))
            if (e.is_directory()) collect_run(e.path(), e.path().filename().string(), finals, checkpoints);
    }
    std::sort(finals.begin(), finals.end(), [](const auto& a, const auto& b) { return a.label < b.label; });
    std::stable_sort(checkpoints.begin(), checkpoints.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (auto& c : checkpoints) finals.push_back(std::move(c.second));
    return finals;
}

}  // namespace tb
