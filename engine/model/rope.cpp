// RoPE tables and application; see MODELS.md §1.4.4 (ChatGLM) and §4.2 (LLaMA/Qwen2).
#include "model/rope.h"

#include <cmath>

#include "core/error.h"

namespace tb {

Rope::Rope(const ModelConfig& c, at::ScalarType dtype, at::Device device)
    : interleaved_(c.interleaved_rope()), angles_in_model_dtype_(c.glm_rope_in_model_dtype), rotary_dim_(c.rotary_dim()),
      dtype_(dtype) {
    const double base = c.rope_theta;
    if (c.arch == Arch::ChatGLM6B) {
        // RotaryEmbedding(dim = hd / 2): inv_freq stored in fp16; angles t·inv_freq in fp16 as the
        // fp16 release computes them, in fp32 otherwise (bf16 would collapse positions past 256)
        two_d_ = true;
        angles_in_model_dtype_ = dtype == at::kHalf;
        const int64_t dim = rotary_dim_ / 2;
        auto idx = at::arange(0, dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat);
        inv_freq_ = at::reciprocal(at::pow(base, idx / static_cast<double>(dim))).to(at::kHalf).to(dtype == at::kHalf ? at::kHalf : at::kFloat);
        inv_freq_ = inv_freq_.to(device);
        return;
    }
    if (angles_in_model_dtype_) {
        // ChatGLM2: theta = 1 / base ** (arange(0, n, 2, dtype) / n), all in the model dtype.
        auto idx = at::arange(0, rotary_dim_, 2, at::TensorOptions().dtype(dtype));
        inv_freq_ = at::reciprocal(at::pow(base, idx / static_cast<double>(rotary_dim_)));
    } else {
        auto idx = at::arange(0, rotary_dim_, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat);
        inv_freq_ = at::reciprocal(at::pow(base, idx / static_cast<double>(rotary_dim_)));
    }
    const auto& s = c.rope_scaling;
    if (s.type == "linear") {
        inv_freq_ = inv_freq_ / s.factor;
    } else if (s.type == "llama3") {
        // transformers _compute_llama3_parameters
        const double lo_wl = s.original_max_position_embeddings / s.low_freq_factor;
        const double hi_wl = s.original_max_position_embeddings / s.high_freq_factor;
        auto f = inv_freq_.contiguous();
        auto* p = f.data_ptr<float>();
        for (int64_t i = 0; i < f.numel(); ++i) {
            double inv = p[i], wl = 2 * M_PI / inv;
            if (wl < hi_wl) continue;
            if (wl > lo_wl) {
                p[i] = static_cast<float>(inv / s.factor);
            } else {
                double smooth = (s.original_max_position_embeddings / wl - s.low_freq_factor) /
                                (s.high_freq_factor - s.low_freq_factor);
                p[i] = static_cast<float>((1 - smooth) * inv / s.factor + smooth * inv);
            }
        }
        inv_freq_ = f;
    } else if (s.type == "factors") {
        const auto n = static_cast<int64_t>(s.freq_factors.size());
        if (n != inv_freq_.numel())
            throw ConfigError("rope_freqs has " + std::to_string(n) + " factors for " + std::to_string(inv_freq_.numel()) + " frequencies");
        inv_freq_ = inv_freq_ / at::tensor(s.freq_factors, at::kFloat);
    }
    inv_freq_ = inv_freq_.to(device);
}

std::pair<at::Tensor, at::Tensor> Rope::tables(const at::Tensor& positions) const {
    if (two_d_) {  // [B, T, 1, hd]: (p, p) angles on the first half, (block, block) on the second
        auto angle = [&](const at::Tensor& p) {
            return angles_in_model_dtype_ ? (p.to(at::kHalf).unsqueeze(-1) * inv_freq_).to(at::kFloat)
                                          : p.to(at::kFloat).unsqueeze(-1) * inv_freq_;
        };
        auto a = angle(positions.select(1, 0)), b = angle(positions.select(1, 1));
        auto emb = at::cat({a, a, b, b}, -1);
        if (angles_in_model_dtype_) return {emb.to(at::kHalf).cos().unsqueeze(2), emb.to(at::kHalf).sin().unsqueeze(2)};
        return {emb.cos().to(dtype_).unsqueeze(2), emb.sin().to(dtype_).unsqueeze(2)};
    }
    at::Tensor angles;  // [B, T, rotary_dim/2]
    if (angles_in_model_dtype_) {
        angles = (positions.to(dtype_).unsqueeze(-1) * inv_freq_).to(at::kFloat);
    } else {
        angles = positions.to(at::kFloat).unsqueeze(-1) * inv_freq_;
    }
    if (interleaved_) {
        // [B, T, 1, rot/2]: one (cos, sin) per interleaved pair
        return {angles.cos().to(dtype_).unsqueeze(2), angles.sin().to(dtype_).unsqueeze(2)};
    }
    auto emb = at::cat({angles, angles}, -1);  // [B, T, hd]
    return {emb.cos().to(dtype_).unsqueeze(2), emb.sin().to(dtype_).unsqueeze(2)};
}

at::Tensor Rope::apply(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) const {
    if (interleaved_) {
        auto rot = x.narrow(-1, 0, rotary_dim_);
        auto pass = x.narrow(-1, rotary_dim_, x.size(-1) - rotary_dim_);
        auto shaped = rot.reshape({x.size(0), x.size(1), x.size(2), rotary_dim_ / 2, 2});
        auto x0 = shaped.select(-1, 0), x1 = shaped.select(-1, 1);
        auto out = at::stack({x0 * cos - x1 * sin, x1 * cos + x0 * sin}, -1).flatten(3);
        return at::cat({out, pass}, -1);
    }
    if (two_d_) {  // rotate-half inside each half of the head
        const int64_t hd = x.size(-1), quarter = hd / 4;
        auto xs = x.unflatten(-1, {2, hd / 2});
        auto rotated = at::cat({-xs.narrow(-1, quarter, quarter), xs.narrow(-1, 0, quarter)}, -1);
        return (xs * cos.unflatten(-1, {2, hd / 2}) + rotated * sin.unflatten(-1, {2, hd / 2})).flatten(-2);
    }
    const int64_t half = x.size(-1) / 2;
    auto rotated = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
    return x * cos + rotated * sin;
}

}  // namespace tb
