// RoPE on one element of a head's row, forward and backward, with the roundings of the ATen
// reference's separate ops (Rope::apply in model/rope.cpp). Shared by the decode kernels and the
// training kernel.
#pragma once

#include <cstdint>

#include "kernels/cuda_math.cuh"

namespace tb::kernels {

// One rotated element from its value x, its partner's o and the angle's c, s, rounded as the
// reference's ops are: round(round(x c) ∓ round(o s)).
template <typename T>
__device__ __forceinline__ float rope_rotate(float x, float o, float c, float s, bool minus) {
    const float xc = rounded<T>(x * c), os = rounded<T>(o * s);
    return rounded<T>(minus ? xc - os : xc + os);
}

// Element d of one head's row src after RoPE (rotate: keys and queries; values pass through), each
// product and sum rounded to T as the ATen reference's separate ops are (Rope::apply in model/rope.cpp).
// cs, sn: the row's cos/sin table of `table` entries. Branch-free, so that a thread's loads for
// several elements are in flight together (branches around the loads made them one at a time).
template <typename T>
__device__ __forceinline__ float rope_element(const T* src, const T* cs, const T* sn, int64_t d, int64_t hd,
                                              int64_t rotary_dim, int64_t table, bool interleaved, bool rotate) {
    // ChatGLM: pairs (2i, 2i+1) of the first rotary_dim dims; else rotate-half over the head
    const int64_t half = hd / 2;
    const int64_t partner = interleaved ? (d ^ 1) : (d < half ? d + half : d - half);
    const int64_t i = interleaved ? d / 2 : d;
    const int64_t at = i < table ? i : table - 1;  // past the rotary dims: any entry, the result is x
    const float x = to_float(src[d]), o = to_float(src[partner]);
    const float c = to_float(cs[at]), s = to_float(sn[at]);
    const float y = rope_rotate<T>(x, o, c, s, interleaved ? (d % 2 == 0) : (d < half));
    return rotate && (!interleaved || d < rotary_dim) ? y : x;
}

// Element d of the gradient of rope_element's input for the output's gradient g, as autograd
// runs the reference backward: each product rounded to T, the two contributions summed and
// rounded. ChatGLM: dx[2i] = g[2i]c + g[2i+1]s, dx[2i+1] = g[2i+1]c - g[2i]s (c, s of pair i);
// rotate-half: dx[d] = g[d]c[d] + g[d+h]s[d+h] below h = hd/2, g[d]c[d] - g[d-h]s[d-h] above.
template <typename T>
__device__ __forceinline__ float rope_grad_element(const T* g, const T* cs, const T* sn, int64_t d, int64_t hd,
                                                   int64_t rotary_dim, int64_t table, bool interleaved) {
    const int64_t half = hd / 2;
    const int64_t partner = interleaved ? (d ^ 1) : (d < half ? d + half : d - half);
    const int64_t i = interleaved ? d / 2 : d, ip = interleaved ? d / 2 : partner;
    const int64_t at = i < table ? i : table - 1, atp = ip < table ? ip : table - 1;
    const float x = to_float(g[d]), o = to_float(g[partner]);
    const bool plus = interleaved ? (d % 2 == 0) : (d < half);
    const float y = rope_rotate<T>(x, o, to_float(cs[at]), to_float(sn[atp]), !plus);
    return !interleaved || d < rotary_dim ? y : x;
}

}  // namespace tb::kernels
