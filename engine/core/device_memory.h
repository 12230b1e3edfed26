// Memory in use on a device: the CUDA caching allocator's statistics when this build links
// CUDA (c10_cuda), the process's resident set on CPU. Torch-free header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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

struct DeviceCapacity {
    int64_t free = 0;   // bytes this process could still use (CPU: MemAvailable)
    int64_t total = 0;  // bytes (CPU: MemTotal); 0 when unknown
};
// "cpu", "cuda:N"; for the GUI's memory indicator and the memory estimate.
DeviceCapacity device_capacity(const std::string& device);
// "cpu" followed by "cuda:0", "cuda:1", … for the GPUs this build and machine can use.
std::vector<std::string> available_devices();

}  // namespace tb
