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

// Whole file as bytes; FileError naming the path when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace tb::io
