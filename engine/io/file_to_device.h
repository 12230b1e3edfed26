// Model weights from files straight into GPU memory, fast: several threads pread() chunks into
// pinned staging buffers while the chunks read before are copied to the device on their own
// streams. Through a file mapping (the reference path) a 12 GB checkpoint loads at ~6 GB/s: every
// page faults once and the driver stages each pageable copy itself. Torch-free; built with the
// CUDA kernels (TB_WITH_CUDA_KERNELS), the mapping path everywhere else.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tb::io {

struct FileRange {
    std::string path;
    uint64_t offset = 0, bytes = 0;
    void* device_dst = nullptr;  // device memory of `bytes` bytes
};

// Returns "" when every range was copied (the copies are complete on return), else what failed.
std::string copy_files_to_device(const std::vector<FileRange>& ranges, int device, int threads);

}  // namespace tb::io
