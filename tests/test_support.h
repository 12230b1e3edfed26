// Paths to the shared reference data (../shared next to the checkout) and small helpers.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tb::test {

inline std::filesystem::path shared_dir() { return TB_SHARED_DIR; }
inline std::filesystem::path models_dir() { return shared_dir() / "models"; }
inline std::filesystem::path datasets_dir() { return shared_dir() / "datasets"; }

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::vector<int64_t> parse_ids(const std::string& line) {
    std::vector<int64_t> ids;
    std::istringstream is(line);
    int64_t v;
    while (is >> v) ids.push_back(v);
    return ids;
}

// A fresh empty temporary folder, removed by the destructor.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() /
               ("tunebench-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    static int& counter() {
        static int c = 0;
        return c;
    }
};

}  // namespace tb::test
