// Static KV slabs: one allocation per layer at construction, then only in-place writes.
#include "model/static_kv_cache.h"

#include <atomic>

#include "core/error.h"

namespace tb {
namespace {
std::atomic<int64_t> g_allocations{0};
}

int64_t StaticKVCache::allocations() { return g_allocations.load(); }

int64_t StaticKVCache::bytes_per_slot(const ModelConfig& c, int64_t capacity, at::ScalarType dtype) {
    return 2 * c.num_hidden_layers * c.num_key_value_heads * capacity * c.head_dim *
           static_cast<int64_t>(c10::elementSize(dtype));
}

StaticKVCache::StaticKVCache(const ModelConfig& c, int64_t slots, int64_t capacity, at::ScalarType dtype,
                             at::Device device)
    : lengths_(slots, 0), capacity_(capacity) {
    if (slots < 1 || capacity < 1) throw Error("a KV cache needs at least one slot and one position");
    auto opts = at::TensorOptions().dtype(dtype).device(device);
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        // zeros, not empty: an unused slot's keys must stay finite (its scores are masked, but
        // 0 × NaN would still poison the weighted sum).
        k_.push_back(at::zeros({slots, c.num_key_value_heads, capacity, c.head_dim}, opts));
        v_.push_back(at::zeros({slots, c.num_key_value_heads, capacity, c.head_dim}, opts));
        g_allocations += 2;
    }
    auto longs = at::TensorOptions().dtype(at::kLong).device(device);
    device_lengths_ = at::zeros({slots}, longs);
}

void StaticKVCache::truncate(int64_t slot, int64_t length) {
    auto& n = lengths_.at(slot);
    n = std::min(std::max<int64_t>(length, 0), n);
    device_lengths_.select(0, slot).fill_(n);
}

std::pair<at::Tensor, at::Tensor> StaticKVCache::write(size_t layer, int64_t slot, const at::Tensor& k,
                                                       const at::Tensor& v) {
    const int64_t start = lengths_.at(slot), t = k.size(2);
    if (start + t > capacity_) {
        throw Error("the KV cache holds " + std::to_string(capacity_) + " positions; this sequence needs " +
                        std::to_string(start + t),
                    "shorten the prompt or max_new_tokens");
    }
    auto K = k_.at(layer).narrow(0, slot, 1);
    auto V = v_.at(layer).narrow(0, slot, 1);
    K.narrow(2, start, t).copy_(k);
    V.narrow(2, start, t).copy_(v);
    return {K.narrow(2, 0, start + t), V.narrow(2, 0, start + t)};
}

void StaticKVCache::commit(int64_t slot, int64_t t) {
    lengths_.at(slot) += t;
    device_lengths_.select(0, slot).fill_(lengths_[slot]);
}

}  // namespace tb
