// Staged checkpoint upload to the GPU; see device_upload.h.
#include "io/device_upload.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "io/tensor_io.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace tb::io {

#ifdef TB_WITH_CUDA_KERNELS
namespace {

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14; older kernels refuse it and the faults happen as before
#endif

// The first touch of a fresh mapping faults one 4 KB page at a time: about 3 million faults, 1.3 s,
// for a 12.5 GB model even from the page cache (measured on the H100 machine). The kernel maps a
// chunk's pages in one call instead, and several threads copy it.
void copy_from_mapping(uint8_t* dst, const uint8_t* src, int64_t len) {
    static const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t start = reinterpret_cast<uintptr_t>(src) & ~(page - 1);
    (void)madvise(reinterpret_cast<void*>(start), reinterpret_cast<uintptr_t>(src) + len - start, MADV_POPULATE_READ);
    at::parallel_for(0, len, 4 << 20, [&](int64_t b, int64_t e) { std::memcpy(dst + b, src + b, static_cast<size_t>(e - b)); });
}

}  // namespace

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
        copy_from_mapping(s.buffer[b].data_ptr<uint8_t>(), v.data + off, len);
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
