// Data-parallel training over torch.distributed's C++ core (c10d): which process this is, read
// from torchrun's environment variables, and the collectives the trainer needs — NCCL between
// GPUs, Gloo between CPU processes. The process group itself is c10d's; nothing here sends bytes.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "train/world.h"

namespace tb::dist {

// Which backend serves a device: "nccl" for CUDA, "gloo" for the CPU; ConfigError when this build
// lacks it (Gloo needs the gloo headers at build time, NCCL a CUDA LibTorch).
std::string backend_for(const c10::Device& device);

class Communicator {
public:
    // Joins the group: rank 0 serves a TCP store at MASTER_ADDR:MASTER_PORT, the others connect
    // (waiting up to `timeout`). A collective that waits longer than `timeout` fails with an error.
    Communicator(const World& world, const c10::Device& device, std::chrono::seconds timeout);
    ~Communicator();
    Communicator(const Communicator&) = delete;
    Communicator& operator=(const Communicator&) = delete;

    const World& world() const;
    // In place, summed over all processes; the tensors live on this process's device.
    void all_reduce_sum(std::vector<at::Tensor>& tensors);
    // In place: every process ends with rank 0's values.
    void broadcast_from_main(std::vector<at::Tensor>& tensors);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Sums the gradients of the trainable tensors over all processes after backward, in buckets of at
// most `bucket_bytes` of one dtype (DDP's 25 MiB by default), all buckets in flight at once. A
// tensor without a gradient on this process (no example reached it) takes part as zeros.
class GradientSync {
public:
    GradientSync(Communicator& comm, const std::vector<std::pair<std::string, at::Tensor>>& params,
                 int64_t bucket_bytes = 25 << 20);
    void all_reduce();

private:
    Communicator& comm_;
    std::vector<at::Tensor> params_;
    std::vector<std::vector<size_t>> buckets_;  // indices into params_
};

// The rows of one global micro-batch (per_device × world_size examples) that this rank trains on:
// rank r takes [r × per_device, (r+1) × per_device). The last batch of an epoch may leave a rank
// with fewer rows or none.
std::vector<int64_t> rank_slice(const std::vector<int64_t>& global_batch, int64_t per_device, const World& world);

}  // namespace tb::dist
