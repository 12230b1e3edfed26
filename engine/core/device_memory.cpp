#include "core/device_memory.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#ifdef TB_WITH_C10_CUDA
#include <c10/core/AllocatorConfig.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <dlfcn.h>
#endif

namespace tb {
namespace {
int cuda_index(const std::string& device) {
    auto colon = device.find(':');
    return colon == std::string::npos ? 0 : std::stoi(device.substr(colon + 1));
}
}  // namespace

DeviceMemory device_memory(const std::string& device) {
#ifdef TB_WITH_C10_CUDA
    if (device.rfind("cuda", 0) == 0) {
        try {
            const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(cuda_index(device));
            const auto agg = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
            const auto& s = stats.allocated_bytes[agg];
            return {s.current, s.peak, stats.reserved_bytes[agg].peak};
        } catch (const c10::Error&) {
            return {};  // the allocator starts with the first CUDA tensor: nothing allocated yet
        }
    }
#endif
    (void)cuda_index;
    std::ifstream in("/proc/self/statm");
    int64_t size = 0, resident = 0;
    in >> size >> resident;
    const int64_t bytes = resident * sysconf(_SC_PAGESIZE);
    return {bytes, bytes, bytes};
}

bool use_expandable_cuda_segments() {
#ifdef TB_WITH_C10_CUDA
    const char* off = std::getenv("TUNEBENCH_EXPANDABLE_SEGMENTS");
    if (std::getenv("PYTORCH_CUDA_ALLOC_CONF") || std::getenv("PYTORCH_ALLOC_CONF") || (off && std::string(off) == "0"))
        return false;
    c10::CachingAllocator::setAllocatorSettings("expandable_segments:True");
    return true;
#else
    return false;
#endif
}

void reset_peak_device_memory(const std::string& device) {
#ifdef TB_WITH_C10_CUDA
    if (device.rfind("cuda", 0) == 0) {
        try {
            c10::cuda::CUDACachingAllocator::resetPeakStats(cuda_index(device));
        } catch (const c10::Error&) {  // not started yet: no peak to reset
        }
    }
#endif
    (void)device;
}

int64_t device_free_memory(const std::string& device) {
#ifdef TB_WITH_C10_CUDA
    // cudaMemGetInfo from the CUDA runtime LibTorch has loaded (found at run time, so the build
    // needs no CUDA toolkit link line); for the current device.
    using MemGetInfo = int (*)(size_t*, size_t*);
    auto mem_get_info = reinterpret_cast<MemGetInfo>(dlsym(RTLD_DEFAULT, "cudaMemGetInfo"));
    size_t free = 0, total = 0;
    if (!mem_get_info || mem_get_info(&free, &total) != 0) return 0;
    // what the caching allocator holds but does not use is free for this process too
    int64_t cached = 0;
    try {
        const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(cuda_index(device));
        const auto agg = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
        cached = stats.reserved_bytes[agg].current - stats.allocated_bytes[agg].current;
    } catch (const c10::Error&) {  // the allocator starts with the first CUDA tensor: nothing cached yet
    }
    return static_cast<int64_t>(free) + cached;
#else
    (void)device;
    return 0;
#endif
}

DeviceCapacity device_capacity(const std::string& device) {
    if (device.rfind("cuda", 0) == 0) {
        DeviceCapacity c{device_free_memory(device), 0};
#ifdef TB_WITH_C10_CUDA
        using MemGetInfo = int (*)(size_t*, size_t*);
        auto mem_get_info = reinterpret_cast<MemGetInfo>(dlsym(RTLD_DEFAULT, "cudaMemGetInfo"));
        size_t free = 0, total = 0;
        if (mem_get_info && mem_get_info(&free, &total) == 0) c.total = static_cast<int64_t>(total);
#endif
        return c;
    }
    DeviceCapacity c;
    std::ifstream in("/proc/meminfo");
    std::string key, unit;
    int64_t kb = 0;
    while (in >> key >> kb >> unit) {
        if (key == "MemTotal:") c.total = kb * 1024;
        if (key == "MemAvailable:") c.free = kb * 1024;
    }
    return c;
}

std::vector<std::string> available_devices() {
    std::vector<std::string> devices{"cpu"};
#ifdef TB_WITH_C10_CUDA
    const int n = c10::cuda::device_count();
    for (int i = 0; i < n; ++i) devices.push_back("cuda:" + std::to_string(i));
#endif
    return devices;
}

}  // namespace tb
