// Staged checkpoint upload to the GPU; see device_upload.h.
#include "io/device_upload.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>

#include "io/tensor_io.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace tb::io {

#ifdef TB_WITH_CUDA_KERNELS
struct DeviceUploader::Staging {
    static constexpr int64_t kChunk = 32 << 20;
    at::Tensor buffer[2];
    at::cuda::CUDAEvent copied[2];  // each buffer's last copy: it is refilled only after
    int next = 0;
};
#else
struct DeviceUploader::Staging {};
#endif

DeviceUploader::DeviceUploader(const at::Device& device) : device_(device) {
#ifdef TB_WITH_CUDA_KERNELS
    if (!device.is_cuda()) return;
    staging_ = std::make_unique<Staging>();
    for (auto& b : staging_->buffer)
        b = at::empty({Staging::kChunk}, at::TensorOptions().dtype(at::kByte).pinned_memory(true));
#endif
}

DeviceUploader::~DeviceUploader() {
#ifdef TB_WITH_CUDA_KERNELS
    if (staging_)
        for (auto& e : staging_->copied) e.synchronize();
#endif
}

at::Tensor DeviceUploader::upload(const TensorView& v, at::ScalarType dtype) {
    const auto src_type = scalar_type_of(v.dtype);
    if (!staging_ || v.nbytes != static_cast<size_t>(v.numel()) * c10::elementSize(src_type))
        return to_tensor(v, dtype, device_);
#ifdef TB_WITH_CUDA_KERNELS
    const c10::cuda::CUDAGuard guard(device_);
    const auto stream = c10::cuda::getCurrentCUDAStream();
    const auto n = static_cast<int64_t>(v.nbytes);
    auto raw = at::empty({n}, at::TensorOptions().dtype(at::kByte).device(device_));
    auto& s = *staging_;
    for (int64_t off = 0; off < n; off += Staging::kChunk) {
        const int64_t len = std::min(Staging::kChunk, n - off);
        const int b = s.next;
        s.next ^= 1;
        s.copied[b].synchronize();
        std::memcpy(s.buffer[b].data_ptr<uint8_t>(), v.data + off, static_cast<size_t>(len));
        raw.narrow(0, off, len).copy_(s.buffer[b].narrow(0, 0, len), /*non_blocking=*/true);
        s.copied[b].record(stream);
    }
    auto t = raw.view(src_type).view(v.shape);
    return src_type == dtype ? t : t.to(dtype);
#else
    return to_tensor(v, dtype, device_);
#endif
}

}  // namespace tb::io
