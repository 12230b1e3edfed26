#include "io/file_to_device.h"

#include <cuda_runtime.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

namespace tb::io {

namespace {
constexpr uint64_t kChunk = 16ull << 20;  // per pread and per copy; two staging buffers per thread

struct Chunk {
    int fd;
    uint64_t offset, bytes;
    char* dst;
    const std::string* path;
};
}  // namespace

std::string copy_files_to_device(const std::vector<FileRange>& ranges, int device, int threads) {
    std::map<std::string, int> fds;
    std::string error;
    std::mutex error_mutex;
    std::atomic<bool> failed{false};
    auto fail = [&](const std::string& what) {
        std::lock_guard lock(error_mutex);
        if (error.empty()) error = what;
        failed = true;
    };
    std::vector<Chunk> chunks;
    for (const auto& r : ranges) {
        auto [it, added] = fds.emplace(r.path, -1);
        if (added && (it->second = ::open(r.path.c_str(), O_RDONLY | O_CLOEXEC)) < 0) {
            fail("cannot open " + r.path + ": " + std::strerror(errno));
            break;
        }
        for (uint64_t o = 0; o < r.bytes; o += kChunk)
            chunks.push_back({it->second, r.offset + o, std::min(kChunk, r.bytes - o), static_cast<char*>(r.device_dst) + o, &it->first});
    }
    std::atomic<size_t> next{0};
    auto worker = [&] {
        cudaStream_t stream = nullptr;
        void* buf[2] = {nullptr, nullptr};
        cudaEvent_t done[2] = {nullptr, nullptr};
        bool pending[2] = {false, false};
        if (cudaSetDevice(device) != cudaSuccess || cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) != cudaSuccess) {
            fail("cannot use GPU " + std::to_string(device));
            return;
        }
        for (int b = 0; b < 2; ++b) {
            if (cudaHostAlloc(&buf[b], kChunk, cudaHostAllocDefault) != cudaSuccess ||
                cudaEventCreateWithFlags(&done[b], cudaEventDisableTiming) != cudaSuccess)
                fail("cannot allocate pinned staging memory");
        }
        for (size_t i, b = 0; !failed && (i = next++) < chunks.size(); b ^= 1) {
            const Chunk& c = chunks[i];
            if (pending[b] && cudaEventSynchronize(done[b]) != cudaSuccess) {
                fail("a copy to GPU " + std::to_string(device) + " failed");
                break;
            }
            for (uint64_t got = 0; got < c.bytes;) {
                const ssize_t n = ::pread(c.fd, static_cast<char*>(buf[b]) + got, c.bytes - got, static_cast<off_t>(c.offset + got));
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) {
                    fail("cannot read " + *c.path + " at byte " + std::to_string(c.offset + got) + ": " +
                         (n == 0 ? std::string("the file ends early") : std::strerror(errno)));
                    break;
                }
                got += static_cast<uint64_t>(n);
            }
            if (failed) break;
            if (cudaMemcpyAsync(c.dst, buf[b], c.bytes, cudaMemcpyHostToDevice, stream) != cudaSuccess ||
                cudaEventRecord(done[b], stream) != cudaSuccess) {
                fail("a copy to GPU " + std::to_string(device) + " failed");
                break;
            }
            pending[b] = true;
        }
        if (cudaStreamSynchronize(stream) != cudaSuccess) fail("a copy to GPU " + std::to_string(device) + " failed");
        for (int b = 0; b < 2; ++b) {
            if (buf[b]) cudaFreeHost(buf[b]);
            if (done[b]) cudaEventDestroy(done[b]);
        }
        cudaStreamDestroy(stream);
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < std::max(1, threads) && !failed; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
    for (auto& [path, fd] : fds)
        if (fd >= 0) ::close(fd);
    return error;
}

}  // namespace tb::io
