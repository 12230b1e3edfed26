// Copies checkpoint tensors (views of a file mapping) to a CUDA device through two pinned staging
// buffers: the host fills one while the other's copy is in flight. A copy from pageable memory
// (the mapping itself) ran at 6-7 GB/s on the H100 machine, the staged one at 31 GB/s
// (tests/gpu/results/load-h100-2026-11-26.md).
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>

#include "io/tensor_view.h"

namespace tb::io {

class DeviceUploader {
public:
    explicit DeviceUploader(const at::Device& device);
    ~DeviceUploader();  // waits for the copies in flight
    DeviceUploader(const DeviceUploader&) = delete;
    DeviceUploader& operator=(const DeviceUploader&) = delete;

    // The view's values on the device in `dtype` (converted there when the file holds another).
    at::Tensor upload(const TensorView& view, at::ScalarType dtype);

private:
    struct Staging;
    at::Device device_;
    std::unique_ptr<Staging> staging_;  // null without CUDA support: to_tensor's copy
};

}  // namespace tb::io
