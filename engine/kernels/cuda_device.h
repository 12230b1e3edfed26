// Host-side facts about the current CUDA device that kernel launchers size their grids by.
#pragma once

#include <cuda_runtime_api.h>

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

}  // namespace tb::kernels
