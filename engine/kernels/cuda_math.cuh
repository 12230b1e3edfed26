// Device helpers shared by the kernels: loads and stores of fp32/fp16/bf16 through fp32, with the
// round-to-nearest-even that ATen applies after every op in a half type.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

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

}  // namespace tb::kernels
