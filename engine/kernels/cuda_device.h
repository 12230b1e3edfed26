// Host-side facts about the current CUDA device that kernel launchers size their grids by.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace tb::kernels {

// Streaming multiprocessors of the current device (read once; 100 if the query fails).
inline int sm_count() {
    static const int count = [] {
        int device = 0, n = 0;
        cudaGetDevice(&device);
        cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device);
        return n > 0 ? n : 100;
    }();
    return count;
}

// The kernels' vectorised paths read and write 16-byte pieces; a null pointer (an absent output)
// does not stand in their way.
inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace tb::kernels
