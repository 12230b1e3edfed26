// Memory in use on a device: the CUDA caching allocator's statistics when this build links
// CUDA (c10_cuda), the process's resident set on CPU. Torch-free header.
#pragma once

#include <cstdint>
#include <string>

namespace tb {

struct DeviceMemory {
    int64_t current = 0;  // bytes
    int64_t peak = 0;     // bytes since the last reset (CPU: current)
};

// device: "cpu", "cuda", "cuda:N"
DeviceMemory device_memory(const std::string& device);
void reset_peak_device_memory(const std::string& device);
// Free memory of a CUDA device in bytes; 0 when this build or machine has no CUDA.
int64_t device_free_memory(const std::string& device);

}  // namespace tb
