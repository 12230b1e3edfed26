// CudaGraph over at::cuda::CUDAGraph; a stub without CUDA (cuda_graph.h).
#include "kernels/cuda_graph.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <optional>
#endif

namespace tb::kernels {

#ifdef TB_WITH_CUDA_KERNELS
struct CudaGraph::Impl {
    int device = -1;
    std::optional<c10::cuda::CUDAStream> stream;
    std::unique_ptr<at::cuda::CUDAGraph> graph;
    bool captured = false;
};

CudaGraph::CudaGraph(int device_index) : impl_(std::make_unique<Impl>()) {
    impl_->device = device_index;
    if (device_index >= 0) impl_->stream = c10::cuda::getStreamFromPool(false, static_cast<c10::DeviceIndex>(device_index));
}

CudaGraph::~CudaGraph() = default;

void CudaGraph::run(const std::function<void()>& work) {
    if (!impl_->stream) return work();
    c10::cuda::CUDAGuard device(static_cast<c10::DeviceIndex>(impl_->device));
    // the stream waits for what the caller queued before (weights being loaded, another job's copies)
    auto caller = c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(impl_->device));
    if (caller != *impl_->stream) caller.synchronize();
    c10::cuda::CUDAStreamGuard on(*impl_->stream);
    work();
}

bool CudaGraph::capture(const std::function<void()>& work, std::string* why) {
    if (!impl_->stream) {
        if (why) *why = "no CUDA device";
        return false;
    }
    c10::cuda::CUDAGuard device(static_cast<c10::DeviceIndex>(impl_->device));
    c10::cuda::CUDAStreamGuard on(*impl_->stream);
    impl_->stream->synchronize();
    impl_->graph = std::make_unique<at::cuda::CUDAGraph>();
    try {
        // thread-local mode: another thread's work (a training run) is not disturbed by the capture
        impl_->graph->capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
        try {
            work();
        } catch (...) {
            try { impl_->graph->capture_end(); } catch (...) {}
            throw;
        }
        impl_->graph->capture_end();
    } catch (const std::exception& e) {
        impl_->graph.reset();
        (void)cudaGetLastError();  // a failed capture leaves its error; the eager path must not see it
        if (why) *why = e.what();
        return false;
    }
    impl_->captured = true;
    return true;
}

bool CudaGraph::captured() const { return impl_->captured; }

void CudaGraph::replay() {
    c10::cuda::CUDAGuard device(static_cast<c10::DeviceIndex>(impl_->device));
    c10::cuda::CUDAStreamGuard on(*impl_->stream);
    impl_->graph->replay();
}

#else
struct CudaGraph::Impl {};
CudaGraph::CudaGraph(int) {}
CudaGraph::~CudaGraph() = default;
void CudaGraph::run(const std::function<void()>& work) { work(); }
bool CudaGraph::capture(const std::function<void()>&, std::string* why) {
    if (why) *why = "this build has no CUDA";
    return false;
}
bool CudaGraph::captured() const { return false; }
void CudaGraph::replay() {}
#endif

}  // namespace tb::kernels
