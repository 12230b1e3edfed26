// RoPE + cache write: ATen reference and dispatch; see rope_cache.h.
#include "kernels/rope_cache.h"

#include <ATen/ATen.h>

#include "core/error.h"
#include "model/rope.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/decode_kernel_calls.h"
#include "kernels/kernel_dtype.h"
#endif

namespace tb::kernels {

at::Tensor rope_and_cache_reference(const Rope& rope, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                    const at::Tensor& cos, const at::Tensor& sin, at::Tensor& K, at::Tensor& V,
                                    const at::Tensor& positions, int64_t heads) {
    const int64_t B = q.size(0), groups = K.size(1), hd = K.size(3), cap = K.size(2);
    auto qr = rope.apply(q.reshape({B, 1, heads, hd}), cos, sin);   // [B, 1, nh, hd]
    auto kr = rope.apply(k.reshape({B, 1, groups, hd}), cos, sin);  // [B, 1, nkv, hd]
    auto vr = v.reshape({B, 1, groups, hd});
    auto longs = positions.options();
    auto rows = at::arange(B, longs).unsqueeze(1);      // [B, 1]
    auto group = at::arange(groups, longs).unsqueeze(0);  // [1, nkv]
    auto pos = positions.clamp(0, cap - 1).unsqueeze(1);  // [B, 1]
    K.index_put_({rows, group, pos}, kr.select(1, 0));
    V.index_put_({rows, group, pos}, vr.select(1, 0));
    return qr.transpose(1, 2);  // [B, nh, 1, hd]
}


#ifdef TB_WITH_CUDA_KERNELS
std::optional<RopeCacheCall> rope_cache_call(const Rope& rope, const at::Tensor& q, const at::Tensor& k,
                                             const at::Tensor& v, const at::Tensor& cos, const at::Tensor& sin,
                                             at::Tensor& K, at::Tensor& V, const at::Tensor& positions,
                                             int64_t heads, bool with_q_out) {
    DType dt;
    const auto t = q.scalar_type();
    const bool rows_ok = q.size(1) == 1 && q.stride(-1) == 1 && k.stride(-1) == 1 && v.stride(-1) == 1;
    if (!(q.is_cuda() && kernel_dtype(t, &dt) && k.scalar_type() == t && v.scalar_type() == t && K.scalar_type() == t &&
          V.scalar_type() == t && cos.scalar_type() == t && sin.scalar_type() == t && K.is_contiguous() &&
          V.is_contiguous() && rows_ok && positions.scalar_type() == at::kLong))
        return std::nullopt;
    const int64_t B = q.size(0), groups = K.size(1), hd = K.size(3);
    RopeCacheCall c;
    c.cos = cos.reshape({B, -1}).contiguous();
    c.sin = sin.reshape({B, -1}).contiguous();
    c.positions = positions.contiguous();
    if (with_q_out) c.q_out = at::empty({B, heads, 1, hd}, q.options());
    c.args = RopeCacheArgs{q.data_ptr(), k.data_ptr(), v.data_ptr(), q.stride(0), k.stride(0), v.stride(0),
                           c.cos.data_ptr(), c.sin.data_ptr(), c.cos.size(1),
                           with_q_out ? c.q_out.data_ptr() : nullptr, K.data_ptr(), V.data_ptr(), c.positions.data_ptr<int64_t>(), B, heads, groups, hd, rope.rotary_dim(),
                           K.size(2), rope.interleaved(), dt, c10::cuda::getCurrentCUDAStream().stream()};
    return c;
}
#endif

at::Tensor rope_and_cache(const Rope& rope, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const at::Tensor& cos, const at::Tensor& sin, at::Tensor& K, at::Tensor& V,
                          const at::Tensor& positions, int64_t heads) {
#ifdef TB_WITH_CUDA_KERNELS
    if (q.is_cuda()) {
        const c10::cuda::CUDAGuard guard(q.device());
        if (auto call = rope_cache_call(rope, q, k, v, cos, sin, K, V, positions, heads)) {
            const cudaError_t err = rope_and_cache_forward(call->args);
            if (err != cudaSuccess) throw Error(std::string("RoPE/cache CUDA kernel failed: ") + cudaGetErrorString(err));
            return call->q_out;
        }
    }
#endif
    return rope_and_cache_reference(rope, q, k, v, cos, sin, K, V, positions, heads);
}

}  // namespace tb::kernels
