// Where the running program is, to find what is installed beside it (bin/../lib/tunebench,
// bin/../share/tunebench). Torch-free.
#pragma once

#include <filesystem>

namespace tb {

// /proc/self/exe; empty when it cannot be read.
std::filesystem::path executable_path();
std::filesystem::path executable_dir();

}  // namespace tb
