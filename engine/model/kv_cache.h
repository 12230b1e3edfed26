// Per-layer key/value cache, batch-first [B, kv_heads, capacity, head_dim], grown by doubling.
// `length` counts the positions already stored; rewinding it reuses a shared prompt prefix.
#pragma once

#include <ATen/ATen.h>

#include <vector>

namespace tb {

class KVCache {
public:
    KVCache() = default;
    KVCache(int64_t layers, int64_t initial_capacity) : k_(layers), v_(layers), capacity_(initial_capacity) {}

    int64_t length() const { return length_; }
    // Forget positions from `length` on (they will be overwritten).
    void rewind(int64_t length) { length_ = std::min(length, length_); }
    void clear() { length_ = 0; }

    // Stores k, v [B, kv, T, hd] at positions length()… and returns the whole valid range
    // [B, kv, length()+T, hd]. Call advance(T) once after every layer has appended.
    std::pair<at::Tensor, at::Tensor> append(size_t layer, const at::Tensor& k, const at::Tensor& v);
    void advance(int64_t t) { length_ += t; }
    // ChatGLM-6B: the prefill's prefix_lm_anchors (model/prefix_lm.h), for the 2-D positions of later steps
    const at::Tensor& anchors() const { return anchors_; }
    void set_anchors(at::Tensor anchors) { anchors_ = std::move(anchors); }

private:
    std::vector<at::Tensor> k_, v_;
    int64_t capacity_ = 0;
    int64_t length_ = 0;
    at::Tensor anchors_;
};

}  // namespace tb
