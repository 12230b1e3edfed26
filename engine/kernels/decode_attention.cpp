// Decode attention: ATen reference and dispatch; see decode_attention.h.
#include "kernels/decode_attention.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/decode_cuda.h"
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


at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& K, const at::Tensor& V, const at::Tensor& lengths,
                            int64_t span) {
#ifdef TB_WITH_CUDA_KERNELS
    DType dt;
    const bool tensors_ok = q.is_cuda() && kernel_dtype(q.scalar_type(), &dt) && K.scalar_type() == q.scalar_type() &&
                            V.scalar_type() == q.scalar_type() && K.is_contiguous() && V.is_contiguous() &&
                            lengths.scalar_type() == at::kLong;
    DecodeAttentionArgs a{};
    if (tensors_ok) {
        a.k_cache = K.data_ptr();
        a.v_cache = V.data_ptr();
        a.batch = q.size(0);
        a.heads = q.size(1);
        a.kv_heads = K.size(1);
        a.head_dim = q.size(3);
        a.capacity = K.size(2);
        a.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(q.size(3))));
        a.dtype = dt;
    }
    if (tensors_ok && decode_attention_fits(a)) {
        const c10::cuda::CUDAGuard guard(q.device());
        auto qc = q.contiguous();
        auto lc = lengths.contiguous();
        auto out = at::empty_like(qc);
        a.q = qc.data_ptr();
        a.lengths = lc.data_ptr<int64_t>();
        a.out = out.data_ptr();
        a.stream = c10::cuda::getCurrentCUDAStream().stream();
        auto workspace = at::empty({decode_attention_workspace(a)}, q.options().dtype(at::kFloat));
        a.workspace = workspace.data_ptr<float>();
        const cudaError_t err = decode_attention_forward(a);
        if (err != cudaSuccess) throw Error(std::string("decode attention CUDA kernel failed: ") + cudaGetErrorString(err));
        return out;
    }
#endif
    span = std::min(span, K.size(2));
    return decode_attention_reference(q, K.narrow(2, 0, span), V.narrow(2, 0, span), lengths);
}

}  // namespace tb::kernels
