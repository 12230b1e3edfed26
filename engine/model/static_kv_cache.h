// Key/value cache allocated once for a fixed number of sequences ("slots") and positions: per
// layer [slots, nkv, capacity, hd] slabs that are never reallocated, so a decode step (and a CUDA
// graph of it) always addresses the same memory. Each slot holds one sequence; its length is kept
// on the host and mirrored in a device tensor, from which a decode step writes every row's new
// key at that row's own position. Not the growable cache of training/tests (kv_cache.h).
#pragma once

#include <ATen/ATen.h>

#include <vector>

#include "model/model_config.h"

namespace tb {

class StaticKVCache {
public:
    StaticKVCache(const ModelConfig& config, int64_t slots, int64_t capacity, at::ScalarType dtype, at::Device device);

    int64_t slots() const { return static_cast<int64_t>(lengths_.size()); }
    int64_t capacity() const { return capacity_; }
    // Bytes of the slabs for one slot of `capacity` positions (for sizing a batch).
    static int64_t bytes_per_slot(const ModelConfig& config, int64_t capacity, at::ScalarType dtype);

    int64_t length(int64_t slot) const { return lengths_.at(slot); }
    // Keeps the first `length` positions of `slot` (a shared prompt prefix), forgets the rest.
    void truncate(int64_t slot, int64_t length);

    // Prefill of one slot: k, v [1, nkv, T, hd] go to positions length(slot)…; returns that slot's
    // keys and values [1, nkv, length(slot) + T, hd]. Call commit(slot, T) after the last layer.
    std::pair<at::Tensor, at::Tensor> write(size_t layer, int64_t slot, const at::Tensor& k, const at::Tensor& v);
    void commit(int64_t slot, int64_t t);

    // Decode step of every slot: the slabs [slots, nkv, capacity, hd] of a layer, written at each
    // slot's position device_lengths()[slot] (kernels/rope_cache.h). The caller advances
    // device_lengths() on the device and calls advanced() for the host mirror.
    at::Tensor& keys(size_t layer) { return k_.at(layer); }
    at::Tensor& values(size_t layer) { return v_.at(layer); }
    at::Tensor& device_lengths() { return device_lengths_; }  // [slots] int64
    void advanced(int64_t slot) { ++lengths_.at(slot); }

    // Slab allocations in this process (a test checks that decoding adds none).
    static int64_t allocations();

private:
    std::vector<at::Tensor> k_, v_;  // per layer [slots, nkv, capacity, hd]
    std::vector<int64_t> lengths_;
    at::Tensor device_lengths_;  // [slots] int64
    int64_t capacity_ = 0;
};

}  // namespace tb
