#include "core/install_paths.h"

namespace tb {

std::filesystem::path executable_path() {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path() : p;
}

std::filesystem::path executable_dir() { return executable_path().parent_path(); }

}  // namespace tb
