// Device helpers shared by the kernels: loads and stores of fp32/fp16/bf16 through fp32, with the
// round-to-nearest-even that ATen applies after every op in a half type.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

namespace tb::kernels {

template <typename T> __device__ __forceinline__ float to_float(T v);
template <> __device__ __forceinline__ float to_float<float>(float v) { return v; }
template <> __device__ __forceinline__ float to_float<__half>(__half v) { return __half2float(v); }
template <> __device__ __forceinline__ float to_float<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
// v rounded to T and back: one ATen op's result in T.
template <typename T> __device__ __forceinline__ float rounded(float v) { return to_float(from_float<T>(v)); }
// silu(g) * u as ATen's two ops round it: silu = g / (1 + exp(-g)) in fp32 rounded to T, then the
// product rounded to T.
template <typename T>
__device__ __forceinline__ T silu_times(T g, T u) {
    const float x = to_float(g);
    const float s = rounded<T>(x / (1.0f + expf(-x)));
    return from_float<T>(s * to_float(u));
}

// c += a · b on tensor cores: mma.sync m16n8k16, T (bf16 or fp16) inputs, fp32 accumulators, in the
// PTX fragment layout (sm_80+; the dispatchers take these paths only there).
template <typename T>
__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    } else {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
#else
    __trap();  // never reached: the dispatchers check the compute capability
#endif
}

}  // namespace tb::kernels
