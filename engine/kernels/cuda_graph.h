// A CUDA graph of a step's work (LibTorch's at::cuda::CUDAGraph) on a stream of its own, behind a
// torch-free interface. Work that must be ordered with the replays (prefill, copies to the host)
// runs through run(). Where the build or the device has no CUDA, run() just calls the work and
// capture() returns false, so the caller stays eager.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace tb::kernels {

class CudaGraph {
public:
    // device_index < 0: no CUDA (every call runs eagerly on the caller's thread).
    explicit CudaGraph(int device_index);
    ~CudaGraph();
    CudaGraph(const CudaGraph&) = delete;
    CudaGraph& operator=(const CudaGraph&) = delete;

    // Runs `work` with this graph's stream current.
    void run(const std::function<void()>& work);
    // Records `work` into the graph (nothing executes). False, with the reason in `why`, when it
    // cannot be captured; the caller then keeps running the work eagerly.
    bool capture(const std::function<void()>& work, std::string* why);
    bool captured() const;
    // Launches the recorded work on this graph's stream.
    void replay();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tb::kernels
