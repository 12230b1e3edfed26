// KV cache storage: preallocated slabs so decoding a token copies one column, not the history.
#include "model/kv_cache.h"

namespace tb {

std::pair<at::Tensor, at::Tensor> KVCache::append(size_t layer, const at::Tensor& k, const at::Tensor& v) {
    const int64_t t = k.size(2);
    const int64_t need = length_ + t;
    auto& K = k_.at(layer);
    auto& V = v_.at(layer);
    if (!K.defined() || K.size(2) < need || K.size(0) != k.size(0) || K.scalar_type() != k.scalar_type()) {
        int64_t cap = std::max<int64_t>(capacity_, 16);
        while (cap < need) cap *= 2;
        auto fresh_k = at::empty({k.size(0), k.size(1), cap, k.size(3)}, k.options());
        auto fresh_v = at::empty({v.size(0), v.size(1), cap, v.size(3)}, v.options());
        if (K.defined() && length_ > 0 && K.size(0) == k.size(0)) {
            fresh_k.narrow(2, 0, length_).copy_(K.narrow(2, 0, length_));
            fresh_v.narrow(2, 0, length_).copy_(V.narrow(2, 0, length_));
        }
        K = fresh_k;
        V = fresh_v;
        capacity_ = cap;
    }
    K.narrow(2, length_, t).copy_(k);
    V.narrow(2, length_, t).copy_(v);
    return {K.narrow(2, 0, need), V.narrow(2, 0, need)};
}

}  // namespace tb
