// Shared by the fuzz targets: each writes the input where a user's file would be and calls the
// loader a user's file reaches. A tb::Error is the expected answer to bad input; anything else
// (another exception, a crash, a sanitizer report, a huge allocation) is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"

namespace tb::fuzz {

// A private folder for this process (removed and recreated on first use).
inline const std::filesystem::path& scratch() {
    static const std::filesystem::path dir = [] {
        const char* base = std::getenv("TMPDIR");
        auto d = std::filesystem::path(base && *base ? base : "/tmp") / ("tunebench-fuzz-" + std::to_string(::getpid()));
        std::filesystem::remove_all(d);
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

inline std::filesystem::path write(const std::string& name, const uint8_t* data, size_t size) {
    const auto path = scratch() / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), size);
    return path;
}

// Runs f; a tb::Error is fine, anything else escapes to the fuzzer.
template <class F>
void expect_clean(F&& f) {
    try {
        f();
    } catch (const tb::Error&) {
    }
}

// Touches every byte of a view so the sanitizer sees an out-of-bounds range.
inline unsigned touch(const uint8_t* p, size_t n) {
    unsigned sum = 0;
    for (size_t i = 0; i < n; ++i) sum += p[i];
    return sum;
}

}  // namespace tb::fuzz
