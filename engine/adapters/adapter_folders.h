// The adapters a training run folder holds: its final adapter and its checkpoint-N folders, for
// the GUI's adapter picker. No torch here.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tb {

struct AdapterFolder {
    std::filesystem::path path;
    std::string label;  // "final", "checkpoint-200"
};

// `folder` may be a run (output_dir), a checkpoint, or a folder of runs (one level down).
// Final adapters first, then checkpoints by step, newest first. Empty when there are none.
std::vector<AdapterFolder> find_adapters(const std::filesystem::path& folder);

}  // namespace tb
