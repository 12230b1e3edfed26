// Files are never half-written: write to "<name>.tmp-XXXX" in the same folder, flush, rename.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>

namespace tb::io {

// Calls `write` with a stream on a temporary file beside `path`; on success fsyncs and renames
// it over `path`. On any exception the temporary file is removed and the exception rethrown.
void write_atomically(const std::filesystem::path& path,
                      const std::function<void(std::ostream&)>& write);

void write_text_atomically(const std::filesystem::path& path, const std::string& text);

// Copies a file through a temporary name and a rename: `to` is the old file or the whole new one.
void copy_file_atomically(const std::filesystem::path& from, const std::filesystem::path& to);

// Removes the temporaries of writes that never finished ("<name>.tmp-<pid>-<n>" whose process is
// gone, or an older "<name>.tmp-<n>" untouched for ten minutes) in `dir`; returns how many.
int remove_orphan_temporaries(const std::filesystem::path& dir);

// std::filesystem::remove_all by POSIX calls: a file, or a folder and everything in it (symbolic
// links removed, never followed); a missing path is fine. FileError naming the entry that could not
// be removed; the error_code form reports instead of throwing. Why not remove_all: the pip LibTorch's
// libtorch.so exports its own std::filesystem, and where libstdc++ is linked statically (the GPU
// machine's toolchain) every call binds to it; torch 2.11's remove_all jumps to address 0.
void remove_tree(const std::filesystem::path& path);
void remove_tree(const std::filesystem::path& path, std::error_code& ec) noexcept;

// Whole file as bytes; FileError naming the path when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace tb::io
