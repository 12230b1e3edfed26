// Temporary-file-and-rename writes, and whole-file reads with clear errors.
#include "io/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <string_view>

#include "core/error.h"

namespace tb::io {
namespace fs = std::filesystem;

void write_atomically(const fs::path& path, const std::function<void(std::ostream&)>& write) {
    std::random_device rd;
    fs::path tmp = path;
    // the pid lets a later run tell an orphan (its writer was killed) from a write in progress
    tmp += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000);
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

void copy_file_atomically(const fs::path& from, const fs::path& to) {
    std::ifstream in(from, std::ios::binary);
    if (!in) throw FileError("cannot read " + from.string(), "check that the file exists");
    write_atomically(to, [&](std::ostream& out) { out << in.rdbuf(); });
}

namespace {
bool all_digits(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }
}  // namespace

int remove_orphan_temporaries(const fs::path& dir) {
    // Names by hand, as checkpoints_in does: no std::regex in the engine.
    int removed = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (!e.is_regular_file(ec)) continue;
        const std::string name = e.path().filename().string();
        const size_t at = name.rfind(".tmp-");
        if (at == std::string::npos || at == 0) continue;
        const std::string_view suffix = std::string_view(name).substr(at + 5);  // <pid>-<n> or <n>
        const size_t dash = suffix.find('-');
        bool orphan = false;
        if (dash != std::string_view::npos && all_digits(suffix.substr(0, dash)) && all_digits(suffix.substr(dash + 1))) {
            orphan = !fs::exists("/proc/" + std::string(suffix.substr(0, dash)));
        } else if (all_digits(suffix)) {
            const auto age = fs::file_time_type::clock::now() - fs::last_write_time(e.path(), ec);
            orphan = !ec && age > std::chrono::minutes(10);
        }
        if (orphan && fs::remove(e.path(), ec)) ++removed;
    }
    return removed;
}

namespace {
// `failed` = path, keeping the errno of the call that failed (the assignment may allocate).
bool fail_at(const std::string& path, std::string& failed) {
    const int err = errno;
    failed = path;
    errno = err;
    return false;
}

// Removes `path` (recursively when a folder); on failure returns false with errno set and `failed`
// naming the entry.
bool remove_tree_at(const std::string& path, std::string& failed) {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return errno == ENOENT || fail_at(path, failed);
    if (S_ISDIR(st.st_mode)) {
        DIR* dir = opendir(path.c_str());
        if (!dir) return fail_at(path, failed);
        while (const dirent* e = readdir(dir)) {
            if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
            if (!remove_tree_at(path + "/" + e->d_name, failed)) {
                const int err = errno;
                closedir(dir);
                errno = err;
                return false;
            }
        }
        closedir(dir);
        if (rmdir(path.c_str()) == 0) return true;
    } else if (unlink(path.c_str()) == 0) {
        return true;
    }
    return fail_at(path, failed);
}
}  // namespace

void remove_tree(const fs::path& path, std::error_code& ec) noexcept {
    std::string failed;
    try {
        ec = remove_tree_at(path.string(), failed) ? std::error_code() : std::error_code(errno, std::generic_category());
    } catch (...) {  // std::string allocation
        ec = std::make_error_code(std::errc::not_enough_memory);
    }
}

void remove_tree(const fs::path& path) {
    std::string failed;
    if (!remove_tree_at(path.string(), failed)) {
        const int err = errno;
        throw FileError("cannot remove " + failed + ": " + std::strerror(err),
                        "check the folder's permissions, or remove it by hand");
    }
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError("cannot read " + path.string(), "check that the file exists");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace tb::io
