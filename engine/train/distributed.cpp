#include "train/distributed.h"

#include <ATen/ATen.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef TB_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef TB_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>

#include "core/error.h"

namespace tb::dist {

namespace {

// A peer that died or a collective that timed out: one message that says what happened to the run.
[[noreturn]] void peer_failed(const World& w, const std::string& what) {
    throw Error("training process " + std::to_string(w.rank) + " of " + std::to_string(w.world_size) +
                    " lost the others (" + first_line(what).substr(0, 300) + ")",
                "another training process stopped or was killed; its own message says why. The checkpoints "
                "written before are intact: rerun with resume_from_checkpoint: true");
}

}  // namespace

std::string backend_for(const c10::Device& device) {
    if (device.is_cuda()) {
#ifdef TB_WITH_NCCL
        return "nccl";
#else
        throw UnsupportedError("this build of Tunebench has no NCCL, so it cannot train on several GPUs",
                               "build against a CUDA LibTorch with the CUDA toolkit installed (packaging/quickstart.sh)");
#endif
    }
#ifdef TB_WITH_GLOO
    return "gloo";
#else
    throw UnsupportedError("this build of Tunebench has no Gloo, so it cannot train with several CPU processes",
                           "install libgloo-dev and rebuild (packaging/quickstart.sh does both)");
#endif
}

struct Communicator::Impl {
    World world;
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::Backend> backend;
};

Communicator::Communicator(const World& world, const c10::Device& device, std::chrono::seconds timeout)
    : impl_(std::make_unique<Impl>()) {
    impl_->world = world;
    const std::string backend = backend_for(device);
    if (device.is_cuda()) c10::impl::getDeviceGuardImpl(device.type())->setDevice(device);
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(world.master_port);
    so.isServer = world.rank == 0;
    so.numWorkers = static_cast<size_t>(world.world_size);
    so.waitWorkers = true;
    so.timeout = timeout;
    try {
        impl_->store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, so);
    } catch (const c10::Error& e) {
        throw Error("training process " + std::to_string(world.rank) + " could not meet the others at " + world.master_addr +
                        ":" + std::to_string(world.master_port) + " (" + first_line(e.what_without_backtrace()).substr(0, 300) + ")",
                    "the port may be taken by another run (set MASTER_PORT to a free one), or a process did not start");
    }
#ifdef TB_WITH_NCCL
    if (backend == "nccl") {
        auto opts = c10d::ProcessGroupNCCL::Options::create();
        opts->timeout = timeout;
        impl_->backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, world.rank, world.world_size, opts);
    }
#endif
#ifdef TB_WITH_GLOO
    if (backend == "gloo") {
        auto opts = c10d::ProcessGroupGloo::Options::create();
        opts->timeout = timeout;
        const char* iface = std::getenv("GLOO_SOCKET_IFNAME");
        if (iface && *iface) {
            opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(iface));
        } else if (world.master_addr == "127.0.0.1" || world.master_addr == "localhost") {
            opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
        } else {
            opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        }
        try {
            impl_->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, world.rank, world.world_size, opts);
        } catch (const std::exception& e) {
            peer_failed(world, e.what());
        }
    }
#endif
    if (!impl_->backend) throw UnsupportedError("no process-group backend for " + device.str());
}

Communicator::~Communicator() = default;

const World& Communicator::world() const { return impl_->world; }

void Communicator::all_reduce_sum(std::vector<at::Tensor>& tensors) {
    try {
        std::vector<c10::intrusive_ptr<c10d::Work>> works;
        c10d::AllreduceOptions o;
        o.reduceOp = c10d::ReduceOp::SUM;
        for (auto& t : tensors) {
            std::vector<at::Tensor> one{t};
            works.push_back(impl_->backend->allreduce(one, o));
        }
        for (auto& w : works) w->wait();
    } catch (const std::exception& e) {
        peer_failed(impl_->world, e.what());
    }
}

void Communicator::broadcast_from_main(std::vector<at::Tensor>& tensors) {
    at::NoGradGuard no_grad;
    try {
        std::vector<c10::intrusive_ptr<c10d::Work>> works;
        for (auto& t : tensors) {
            std::vector<at::Tensor> one{t};
            works.push_back(impl_->backend->broadcast(one, c10d::BroadcastOptions{}));
        }
        for (auto& w : works) w->wait();
    } catch (const std::exception& e) {
        peer_failed(impl_->world, e.what());
    }
}

GradientSync::GradientSync(Communicator& comm, const std::vector<std::pair<std::string, at::Tensor>>& params,
                           int64_t bucket_bytes)
    : comm_(comm) {
    // Buckets in parameter order, one dtype each: every rank forms the same buckets.
    int64_t filled = 0;
    for (const auto& [name, p] : params) {
        const size_t i = params_.size();
        params_.push_back(p);
        const int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
        const bool fits = !buckets_.empty() && params_[buckets_.back().front()].scalar_type() == p.scalar_type() &&
                          filled + bytes <= bucket_bytes;
        if (!fits) {
            buckets_.emplace_back();
            filled = 0;
        }
        buckets_.back().push_back(i);
        filled += bytes;
    }
}

void GradientSync::all_reduce() {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> flats;
    for (const auto& bucket : buckets_) {
        std::vector<at::Tensor> parts;
        for (size_t i : bucket) {
            auto& p = params_[i];
            if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
            parts.push_back(p.grad().reshape({-1}));
        }
        flats.push_back(at::cat(parts));
    }
    comm_.all_reduce_sum(flats);
    for (size_t b = 0; b < buckets_.size(); ++b) {
        int64_t offset = 0;
        for (size_t i : buckets_[b]) {
            auto& g = params_[i].mutable_grad();
            g.copy_(flats[b].narrow(0, offset, g.numel()).view(g.sizes()));
            offset += g.numel();
        }
    }
}

std::vector<int64_t> rank_slice(const std::vector<int64_t>& global_batch, int64_t per_device, const World& world) {
    const auto n = static_cast<int64_t>(global_batch.size());
    const int64_t begin = std::min(n, world.rank * per_device), end = std::min(n, begin + per_device);
    return {global_batch.begin() + begin, global_batch.begin() + end};
}

}  // namespace tb::dist
