// Decode attention: ATen reference and dispatch; see decode_attention.h.
#include "kernels/decode_attention.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "kernels/rope_cache.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/decode_kernel_calls.h"
#include "kernels/kernel_dtype.h"
#endif

namespace tb::kernels {

at::Tensor decode_attention_reference(const at::Tensor& q, const at::Tensor& K, const at::Tensor& V,
                                      const at::Tensor& lengths) {
    const int64_t B = q.size(0), heads = q.size(1), hd = q.size(3), groups = K.size(1), S = K.size(2);
    const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
    auto qg = q.reshape({B, groups, heads / groups, hd});                      // [B, nkv, rep, hd]
    auto scores = at::matmul(qg, K.transpose(-2, -1)).to(at::kFloat) * scale;  // [B, nkv, rep, S]
    auto positions = at::arange(S, lengths.options());
    auto hidden = (positions.unsqueeze(0) >= lengths.unsqueeze(1)).view({B, 1, 1, S});
    scores.masked_fill_(hidden, -std::numeric_limits<float>::infinity());
    auto probs = at::softmax(scores, -1).to(V.scalar_type());
    return at::matmul(probs, V).reshape({B, heads, 1, hd});  // [B, nh, 1, hd]
}


#ifdef TB_WITH_CUDA_KERNELS
std::optional<DecodeAttentionCall> decode_attention_call(const at::Tensor& q, int64_t heads, const at::Tensor& K,
                                                         const at::Tensor& V, const at::Tensor& lengths,
                                                         const at::Tensor& counters) {
    DType dt;
    const auto t = K.scalar_type();
    if (!(K.is_cuda() && kernel_dtype(t, &dt) && V.scalar_type() == t && (!q.defined() || q.scalar_type() == t) &&
          K.is_contiguous() && V.is_contiguous() && lengths.scalar_type() == at::kLong))
        return std::nullopt;
    const int64_t hd = K.size(3);
    DecodeAttentionCall c;
    auto& a = c.args;
    a.k_cache = K.data_ptr();
    a.v_cache = V.data_ptr();
    a.batch = K.size(0);
    a.heads = heads;
    a.kv_heads = K.size(1);
    a.head_dim = hd;
    a.capacity = K.size(2);
    a.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
    a.dtype = dt;
    if (!decode_attention_fits(a)) return std::nullopt;
    if (q.defined()) {
        c.q = q.contiguous();
        a.q = c.q.data_ptr();
    }
    c.lengths = lengths.contiguous();
    a.lengths = c.lengths.data_ptr<int64_t>();
    c.out = at::empty({a.batch, heads, 1, hd}, K.options());
    a.out = c.out.data_ptr();
    a.stream = c10::cuda::getCurrentCUDAStream().stream();
    c.workspace = at::empty({decode_attention_workspace(a)}, K.options().dtype(at::kFloat));
    a.workspace = c.workspace.data_ptr<float>();
    const int64_t n = decode_attention_counters(a);
    if (n == 0) {
        a.counters = nullptr;
        return c;
    }
    if (counters.defined()) {
        if (!counters.is_cuda() || counters.scalar_type() != at::kInt || !counters.is_contiguous() || counters.numel() < n)
            throw Error("decode attention: the counters must be " + std::to_string(n) + " contiguous int32 zeros on the GPU");
        c.counters = counters;
    } else {
        c.counters = at::zeros({n}, K.options().dtype(at::kInt));
    }
    a.counters = reinterpret_cast<unsigned*>(c.counters.data_ptr<int32_t>());
    return c;
}
#endif

at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& K, const at::Tensor& V, const at::Tensor& lengths,
                            int64_t span) {
#ifdef TB_WITH_CUDA_KERNELS
    if (q.is_cuda()) {
        const c10::cuda::CUDAGuard guard(q.device());
        if (auto call = decode_attention_call(q, q.size(1), K, V, lengths, {})) {
            const cudaError_t err = decode_attention_forward(call->args);
            if (err != cudaSuccess) throw Error(std::string("decode attention CUDA kernel failed: ") + cudaGetErrorString(err));
            return call->out;
        }
    }
#endif
    span = std::min(span, K.size(2));
    return decode_attention_reference(q, K.narrow(2, 0, span), V.narrow(2, 0, span), lengths);
}

at::Tensor rope_cache_attention(const Rope& rope, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const at::Tensor& cos, const at::Tensor& sin, at::Tensor& K, at::Tensor& V,
                                const at::Tensor& positions, const at::Tensor& lengths, int64_t heads, int64_t span,
                                const at::Tensor& counters) {
#ifdef TB_WITH_CUDA_KERNELS
    if (q.is_cuda()) {
        const c10::cuda::CUDAGuard guard(q.device());
        auto r = rope_cache_call(rope, q, k, v, cos, sin, K, V, positions, heads, /*with_q_out=*/false);
        auto a = r ? decode_attention_call({}, heads, K, V, lengths, counters) : std::nullopt;
        if (a && rope_cache_attention_fits(r->args, a->args)) {
            const cudaError_t err = rope_cache_attention_forward(r->args, a->args);
            if (err != cudaSuccess) throw Error(std::string("decode attention CUDA kernel failed: ") + cudaGetErrorString(err));
            return a->out;
        }
    }
#endif
    auto qr = rope_and_cache(rope, q, k, v, cos, sin, K, V, positions, heads);
    return decode_attention(qr, K, V, lengths, span);
}

}  // namespace tb::kernels
