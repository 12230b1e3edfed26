// ggml's reference quantizers (ggml-quants.c `quantize_row_*_ref` / `dequantize_row_*`) as
// FORMATS.md §2 writes them down, in their float32 operation order.
#include "export/ggml_quants.h"

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace tb::ggml {
namespace {

constexpr int64_t QK = 32, QK_K = 256;
constexpr float GROUP_MAX_EPS = 1e-15f;

uint32_t bits_of(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
float float_of(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v & 0xFF);
    p[1] = static_cast<uint8_t>(v >> 8);
}
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// round half to even for |f| ≤ 4194303 (ggml's nearest_int)
int nearest_int(float f) {
    const float val = f + 12582912.f;
    int i;
    std::memcpy(&i, &val, 4);
    return (i & 0x007fffff) - 0x00400000;
}

void quantize_q8_0(const float* x, uint8_t* y) {
    float amax = 0.0f;
    for (int j = 0; j < QK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    put16(y, fp32_to_fp16(d));
    for (int j = 0; j < QK; ++j) y[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(std::roundf(x[j] * id)));
}

void dequantize_q8_0(const uint8_t* y, float* x) {
    const float d = fp16_to_fp32(get16(y));
    for (int j = 0; j < QK; ++j) x[j] = static_cast<float>(static_cast<int8_t>(y[2 + j])) * d;
}

// the block's value of largest magnitude, with its sign (the first on ties)
float signed_absmax(const float* x) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < QK; ++j) {
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    }
    return max;
}

void quantize_q4_0(const float* x, uint8_t* y) {
    const float d = signed_absmax(x) / -8;
    const float id = d ? 1.0f / d : 0.0f;
    put16(y, fp32_to_fp16(d));
    for (int j = 0; j < QK / 2; ++j) {
        const float x0 = x[j] * id, x1 = x[QK / 2 + j] * id;
        const uint8_t xi0 = static_cast<uint8_t>(std::min<int8_t>(15, static_cast<int8_t>(x0 + 8.5f)));
        const uint8_t xi1 = static_cast<uint8_t>(std::min<int8_t>(15, static_cast<int8_t>(x1 + 8.5f)));
        y[2 + j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
    }
}

void dequantize_q4_0(const uint8_t* y, float* x) {
    const float d = fp16_to_fp32(get16(y));
    for (int j = 0; j < QK / 2; ++j) {
        x[j] = static_cast<float>((y[2 + j] & 0x0F) - 8) * d;
        x[j + QK / 2] = static_cast<float>((y[2 + j] >> 4) - 8) * d;
    }
}

// block_q5_0: d (fp16), qh[4] (the codes' fifth bits), qs[16] (low nibbles as Q4_0)
void quantize_q5_0(const float* x, uint8_t* y) {
    const float d = signed_absmax(x) / -16;
    const float id = d ? 1.0f / d : 0.0f;
    put16(y, fp32_to_fp16(d));
    uint32_t qh = 0;
    for (int j = 0; j < QK / 2; ++j) {
        const float x0 = x[j] * id, x1 = x[QK / 2 + j] * id;
        const uint8_t xi0 = static_cast<uint8_t>(std::min<int8_t>(31, static_cast<int8_t>(x0 + 16.5f)));
        const uint8_t xi1 = static_cast<uint8_t>(std::min<int8_t>(31, static_cast<int8_t>(x1 + 16.5f)));
        y[6 + j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
        qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
        qh |= ((xi1 & 0x10u) >> 4) << (j + QK / 2);
    }
    std::memcpy(y + 2, &qh, 4);
}

void dequantize_q5_0(const uint8_t* y, float* x) {
    const float d = fp16_to_fp32(get16(y));
    uint32_t qh;
    std::memcpy(&qh, y + 2, 4);
    for (int j = 0; j < QK / 2; ++j) {
        const uint8_t xh_0 = static_cast<uint8_t>(((qh >> (j + 0)) << 4) & 0x10);
        const uint8_t xh_1 = static_cast<uint8_t>((qh >> (j + 12)) & 0x10);
        const int32_t x0 = ((y[6 + j] & 0x0F) | xh_0) - 16;
        const int32_t x1 = ((y[6 + j] >> 4) | xh_1) - 16;
        x[j] = static_cast<float>(x0) * d;
        x[j + QK / 2] = static_cast<float>(x1) * d;
    }
}

// block_q5_1: d, m (fp16), qh[4], qs[16]: x ≈ d·code + m over the block's range
void quantize_q5_1(const float* x, uint8_t* y) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < QK; ++j) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / ((1 << 5) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    put16(y, fp32_to_fp16(d));
    put16(y + 2, fp32_to_fp16(min));
    uint32_t qh = 0;
    for (int j = 0; j < QK / 2; ++j) {
        const float x0 = (x[j] - min) * id, x1 = (x[QK / 2 + j] - min) * id;
        const uint8_t xi0 = static_cast<uint8_t>(x0 + 0.5f), xi1 = static_cast<uint8_t>(x1 + 0.5f);
        y[8 + j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
        qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
        qh |= ((xi1 & 0x10u) >> 4) << (j + QK / 2);
    }
    std::memcpy(y + 4, &qh, 4);
}

void dequantize_q5_1(const uint8_t* y, float* x) {
    const float d = fp16_to_fp32(get16(y)), m = fp16_to_fp32(get16(y + 2));
    uint32_t qh;
    std::memcpy(&qh, y + 4, 4);
    for (int j = 0; j < QK / 2; ++j) {
        const uint8_t xh_0 = static_cast<uint8_t>(((qh >> (j + 0)) << 4) & 0x10);
        const uint8_t xh_1 = static_cast<uint8_t>((qh >> (j + 12)) & 0x10);
        x[j] = static_cast<float>((y[8 + j] & 0x0F) | xh_0) * d + m;
        x[j + QK / 2] = static_cast<float>((y[8 + j] >> 4) | xh_1) * d + m;
    }
}

// affine fit of n values with weights (ggml's make_qkx2_quants, use_mad = false)
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                       uint8_t* Laux, float rmin, float rdelta, int nstep) {
    float min = x[0], max = x[0];
    float sum_w = weights[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        const float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        std::fill(L, L + n, 0);
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; ++i) {
        const int l = nearest_int(iscale * (x[i] - min));
        L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
        float diff = scale * L[i] + min - x[i];
        diff = diff * diff;
        best_error += weights[i] * diff;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearest_int(iscale * (x[i] - min));
            l = std::max(0, std::min(nmax, l));
            Laux[i] = static_cast<uint8_t>(l);
            const float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; ++i) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = diff * diff;
                cur_error += weights[i] * diff;
            }
            if (cur_error < best_error) {
                std::copy(Laux, Laux + n, L);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

// symmetric fit with weights x² (ggml's make_qx_quants, rmse_type 1, no importance)
float make_qx_quants(int n, int nmax, const float* x, int8_t* L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        std::fill(L, L + n, 0);
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * x[i]);
        l = std::max(-nmax, std::min(nmax - 1, l));
        L[i] = static_cast<int8_t>(l + nmax);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearest_int(iscale * x[i]);
            l = std::max(-nmax, std::min(nmax - 1, l));
            const float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) {
                const int l = nearest_int(iscale * x[i]);
                L[i] = static_cast<int8_t>(nmax + std::max(-nmax, std::min(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

// Q4_K and Q5_K's shared part: per sub-block of 32 an affine fit (nmax 15 or 31), the scales and
// mins as 6 bits under fp16 super-scales (d, dmin at bytes 0–3, scales[12] at 4–15), and the codes
// L requantized with the stored values.
void quantize_k_scales(const float* x, uint8_t* y, int nmax, float rmin, int nstep, uint8_t* L) {
    uint8_t Laux[32];
    float weights[32], mins[QK_K / 32], scales[QK_K / 32];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < QK_K / 32; ++j) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = std::sqrt(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
        scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    uint8_t* sc = y + 4;
    std::memset(sc, 0, 12);
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < QK_K / 32; ++j) {
        uint8_t ls = static_cast<uint8_t>(nearest_int(inv_scale * scales[j]));
        uint8_t lm = static_cast<uint8_t>(nearest_int(inv_min * mins[j]));
        ls = std::min<uint8_t>(63, ls);
        lm = std::min<uint8_t>(63, lm);
        if (j < 4) {
            sc[j] = ls;
            sc[j + 4] = lm;
        } else {
            sc[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
            sc[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
            sc[j - 0] |= static_cast<uint8_t>((lm >> 4) << 6);
        }
    }
    put16(y, fp32_to_fp16(max_scale / 63.f));
    put16(y + 2, fp32_to_fp16(max_min / 63.f));
    const float d_all = fp16_to_fp32(get16(y)), dmin_all = fp16_to_fp32(get16(y + 2));
    for (int j = 0; j < QK_K / 32; ++j) {
        uint8_t s, m;
        get_scale_min_k4(j, sc, &s, &m);
        const float d = d_all * s;
        if (!d) continue;
        const float dm = dmin_all * m;
        for (int ii = 0; ii < 32; ++ii) {
            const int l = nearest_int((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
        }
    }
}

// block_q4_K: d, dmin (fp16), scales[12], qs[128]
void quantize_q4_k(const float* x, uint8_t* y) {
    uint8_t L[QK_K];
    quantize_k_scales(x, y, 15, -1.f, 20, L);
    uint8_t* q = y + 16;
    for (int j = 0; j < QK_K; j += 64) {
        for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
        q += 32;
    }
}

// block_q5_K: d, dmin, scales[12], qh[32] (fifth bits), qs[128]
void quantize_q5_k(const float* x, uint8_t* y) {
    uint8_t L[QK_K];
    quantize_k_scales(x, y, 31, -0.5f, 15, L);
    uint8_t* qh = y + 16;
    uint8_t* ql = y + 48;
    std::memset(qh, 0, 32);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < QK_K; n += 64) {
        for (int j = 0; j < 32; ++j) {
            int l1 = L[n + j];
            if (l1 > 15) {
                l1 -= 16;
                qh[j] |= m1;
            }
            int l2 = L[n + j + 32];
            if (l2 > 15) {
                l2 -= 16;
                qh[j] |= m2;
            }
            ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
        }
        m1 = static_cast<uint8_t>(m1 << 2);
        m2 = static_cast<uint8_t>(m2 << 2);
        ql += 32;
    }
}

void dequantize_q5_k(const uint8_t* y, float* x) {
    const float d = fp16_to_fp32(get16(y)), min = fp16_to_fp32(get16(y + 2));
    const uint8_t* sc = y + 4;
    const uint8_t* qh = y + 16;
    const uint8_t* ql = y + 48;
    int is = 0;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < QK_K; j += 64) {
        uint8_t s, m;
        get_scale_min_k4(is + 0, sc, &s, &m);
        const float d1 = d * s, m1 = min * m;
        get_scale_min_k4(is + 1, sc, &s, &m);
        const float d2 = d * s, m2 = min * m;
        for (int l = 0; l < 32; ++l) *x++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
        for (int l = 0; l < 32; ++l) *x++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        ql += 32;
        is += 2;
        u1 = static_cast<uint8_t>(u1 << 2);
        u2 = static_cast<uint8_t>(u2 << 2);
    }
}

void dequantize_q4_k(const uint8_t* y, float* x) {
    const float d = fp16_to_fp32(get16(y)), min = fp16_to_fp32(get16(y + 2));
    const uint8_t* sc = y + 4;
    const uint8_t* q = y + 16;
    int is = 0;
    for (int j = 0; j < QK_K; j += 64) {
        uint8_t s, m;
        get_scale_min_k4(is + 0, sc, &s, &m);
        const float d1 = d * s, m1 = min * m;
        get_scale_min_k4(is + 1, sc, &s, &m);
        const float d2 = d * s, m2 = min * m;
        for (int l = 0; l < 32; ++l) *x++ = d1 * (q[l] & 0xF) - m1;
        for (int l = 0; l < 32; ++l) *x++ = d2 * (q[l] >> 4) - m2;
        q += 32;
        is += 2;
    }
}

// block_q6_K: ql[128], qh[64], scales[16] (int8), d (fp16, last)
void quantize_q6_k(const float* x, uint8_t* y) {
    int8_t L[QK_K];
    float scales[QK_K / 16];
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < QK_K / 16; ++ib) {
        scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
        const float abs_scale = std::fabs(scales[ib]);
        if (abs_scale > max_abs_scale) {
            max_abs_scale = abs_scale;
            max_scale = scales[ib];
        }
    }
    std::memset(y, 0, 210);
    if (max_abs_scale < GROUP_MAX_EPS) return;  // an all-zero block (d = +0)
    uint8_t* ql = y;
    uint8_t* qh = y + 128;
    int8_t* sc = reinterpret_cast<int8_t*>(y + 192);
    const float iscale = -128.f / max_scale;
    put16(y + 208, fp32_to_fp16(1 / iscale));
    for (int ib = 0; ib < QK_K / 16; ++ib) sc[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
    const float d_all = fp16_to_fp32(get16(y + 208));
    for (int j = 0; j < QK_K / 16; ++j) {
        const float d = d_all * sc[j];
        if (!d) continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = nearest_int(x[16 * j + ii] / d);
            l = std::max(-32, std::min(31, l));
            L[16 * j + ii] = static_cast<int8_t>(l + 32);
        }
    }
    for (int j = 0; j < QK_K; j += 128) {
        for (int l = 0; l < 32; ++l) {
            const uint8_t q1 = L[j + l + 0] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
            ql[l + 0] = static_cast<uint8_t>(q1 | (q3 << 4));
            ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
            qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                         ((L[j + l + 96] >> 4) << 6));
        }
        ql += 64;
        qh += 32;
    }
}

void dequantize_q6_k(const uint8_t* y, float* x) {
    const float d = fp16_to_fp32(get16(y + 208));
    const uint8_t* ql = y;
    const uint8_t* qh = y + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(y + 192);
    for (int n = 0; n < QK_K; n += 128) {
        for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const int q1 = static_cast<int8_t>((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = static_cast<int8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = static_cast<int8_t>((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = static_cast<int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            x[l + 0] = d * sc[is + 0] * q1;
            x[l + 32] = d * sc[is + 2] * q2;
            x[l + 64] = d * sc[is + 4] * q3;
            x[l + 96] = d * sc[is + 6] * q4;
        }
        x += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

}  // namespace

uint16_t fp32_to_fp16(float f) {
    // ggml_compute_fp32_to_fp16 without F16C (the FP16 library's branch-free rounding)
    const float scale_to_inf = 0x1.0p+112f, scale_to_zero = 0x1.0p-110f;
    float base = (std::fabs(f) * scale_to_inf) * scale_to_zero;
    const uint32_t w = bits_of(f), shl1_w = w + w, sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = float_of((bias >> 1) + 0x07800000u) + base;
    const uint32_t b = bits_of(base);
    const uint32_t exp_bits = (b >> 13) & 0x00007C00u, mantissa_bits = b & 0x00000FFFu;
    return static_cast<uint16_t>((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : exp_bits + mantissa_bits));
}

float fp16_to_fp32(uint16_t h) {
    const uint32_t w = static_cast<uint32_t>(h) << 16, sign = w & 0x80000000u, two_w = w + w;
    const float normalized = float_of((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
    const float denormalized = float_of((two_w >> 17) | (126u << 23)) - 0.5f;
    return float_of(sign | (two_w < (1u << 27) ? bits_of(denormalized) : bits_of(normalized)));
}

uint16_t fp32_to_bf16(float f) {
    const uint32_t u = bits_of(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 64);  // NaN: quiet
    return static_cast<uint16_t>((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}

float bf16_to_fp32(uint16_t h) { return float_of(static_cast<uint32_t>(h) << 16); }

const TypeTraits& traits(Type t) {
    static const TypeTraits f32{"F32", 1, 4}, f16{"F16", 1, 2}, bf16{"BF16", 1, 2}, q8_0{"Q8_0", QK, 34},
        q4_0{"Q4_0", QK, 18}, q5_0{"Q5_0", QK, 22}, q5_1{"Q5_1", QK, 24}, q4_k{"Q4_K", QK_K, 144},
        q5_k{"Q5_K", QK_K, 176}, q6_k{"Q6_K", QK_K, 210};
    switch (t) {
        case Type::F32: return f32;
        case Type::F16: return f16;
        case Type::BF16: return bf16;
        case Type::Q8_0: return q8_0;
        case Type::Q4_0: return q4_0;
        case Type::Q5_0: return q5_0;
        case Type::Q5_1: return q5_1;
        case Type::Q5_K: return q5_k;
        case Type::Q4_K: return q4_k;
        case Type::Q6_K: return q6_k;
    }
    throw Error("unknown ggml type " + std::to_string(static_cast<uint32_t>(t)));
}

Type type_from_name(const std::string& name) {
    std::string up = name;
    for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (Type t : {Type::F32, Type::F16, Type::BF16, Type::Q8_0, Type::Q4_0, Type::Q5_0, Type::Q5_1, Type::Q4_K,
                   Type::Q5_K, Type::Q6_K})
        if (up == traits(t).name) return t;
    throw ConfigError("ggml type '" + name + "' is not supported", "use F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q5_K or Q6_K");
}

size_t row_bytes(Type t, int64_t cols) {
    const auto& tr = traits(t);
    return static_cast<size_t>(cols / tr.block * tr.block_bytes);
}

void quantize(Type t, const float* x, int64_t rows, int64_t cols, uint8_t* out) {
    const auto& tr = traits(t);
    if (cols % tr.block != 0) {
        throw ConfigError("a row of " + std::to_string(cols) + " values cannot be stored as " + tr.name,
                          std::string(tr.name) + " needs rows that are a multiple of " + std::to_string(tr.block));
    }
    const int64_t blocks = rows * cols / tr.block;
    for (int64_t b = 0; b < blocks; ++b) {
        const float* xb = x + b * tr.block;
        uint8_t* yb = out + b * tr.block_bytes;
        switch (t) {
            case Type::F32: std::memcpy(yb, xb, 4); break;
            case Type::F16: put16(yb, fp32_to_fp16(*xb)); break;
            case Type::BF16: put16(yb, fp32_to_bf16(*xb)); break;
            case Type::Q8_0: quantize_q8_0(xb, yb); break;
            case Type::Q4_0: quantize_q4_0(xb, yb); break;
            case Type::Q5_0: quantize_q5_0(xb, yb); break;
            case Type::Q5_1: quantize_q5_1(xb, yb); break;
            case Type::Q5_K: quantize_q5_k(xb, yb); break;
            case Type::Q4_K: quantize_q4_k(xb, yb); break;
            case Type::Q6_K: quantize_q6_k(xb, yb); break;
        }
    }
}

std::vector<uint8_t> quantize(Type t, const float* x, int64_t rows, int64_t cols) {
    std::vector<uint8_t> out(row_bytes(t, cols) * static_cast<size_t>(rows));
    quantize(t, x, rows, cols, out.data());
    return out;
}

void dequantize(Type t, const uint8_t* data, int64_t rows, int64_t cols, float* out) {
    const auto& tr = traits(t);
    const int64_t blocks = rows * cols / tr.block;
    for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* yb = data + b * tr.block_bytes;
        float* xb = out + b * tr.block;
        switch (t) {
            case Type::F32: std::memcpy(xb, yb, 4); break;
            case Type::F16: *xb = fp16_to_fp32(get16(yb)); break;
            case Type::BF16: *xb = bf16_to_fp32(get16(yb)); break;
            case Type::Q8_0: dequantize_q8_0(yb, xb); break;
            case Type::Q4_0: dequantize_q4_0(yb, xb); break;
            case Type::Q5_0: dequantize_q5_0(yb, xb); break;
            case Type::Q5_1: dequantize_q5_1(yb, xb); break;
            case Type::Q5_K: dequantize_q5_k(yb, xb); break;
            case Type::Q4_K: dequantize_q4_k(yb, xb); break;
            case Type::Q6_K: dequantize_q6_k(yb, xb); break;
        }
    }
}

}  // namespace tb::ggml
