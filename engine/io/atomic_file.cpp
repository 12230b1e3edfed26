// Temporary-file-and-rename writes, and whole-file reads with clear errors.
#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include "core/error.h"

namespace tb::io {
namespace fs = std::filesystem;

void write_atomically(const fs::path& path, const std::function<void(std::ostream&)>& write) {
    std::random_device rd;
    fs::path tmp = path;
    tmp += ".tmp-" + std::to_string(rd() % 1000000);
    try {
        {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            if (!out) {
                throw FileError("cannot create " + tmp.string(),
                                "check that the folder exists and is writable");
            }
            write(out);
            out.flush();
            if (!out) throw FileError("writing " + path.string() + " failed", "is the disk full?");
        }
        int fd = ::open(tmp.c_str(), O_RDONLY);
        if (fd >= 0) {
            ::fsync(fd);
            ::close(fd);
        }
        fs::rename(tmp, path);
    } catch (...) {
        std::error_code ec;
        fs::remove(tmp, ec);
        throw;
    }
}

void write_text_atomically(const fs::path& path, const std::string& text) {
    write_atomically(path, [&](std::ostream& out) { out.write(text.data(), text.size()); });
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError("cannot read " + path.string(), "check that the file exists");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace tb::io
