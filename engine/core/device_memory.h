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
    int64_t reserved_peak = 0;  // CUDA: the caching allocator's peak hold (fragmentation: above peak); CPU: current
};

// device: "cpu", "cuda", "cuda:N"
DeviceMemory device_memory(const std::string& device);
void reset_peak_device_memory(const std::string& device);
// Training's allocations change size from step to step (packed rows, recomputed layers, eval
// batches): expandable segments let the CUDA caching allocator grow its mappings instead of
// leaving unusable gaps between fixed segments (PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True).
// A user's own PYTORCH_CUDA_ALLOC_CONF or PYTORCH_ALLOC_CONF is left to rule. Returns whether
// it was turned on; TUNEBENCH_EXPANDABLE_SEGMENTS=0 keeps it off (for an A/B).
bool use_expandable_cuda_segments();
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
