// A read-only memory map of a whole file (RAII). Lets a 12 GB checkpoint be read tensor by
// tensor without loading it; the OS pages bytes in and out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace tb::io {

class MappedFile {
public:
    explicit MappedFile(const std::filesystem::path& path);  // FileError if unreadable
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace tb::io
