// Quantized matrix-vector products: ATen reference and dispatch; see quantized_gemv.h.
#include "kernels/quantized_gemv.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "kernels/dequantize.h"
#include "kernels/nf4_blocks.h"
#include "model/quantization.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/kernel_dtype.h"
#include "kernels/quantized_gemv_cuda.h"
#endif

namespace tb::kernels {

at::Tensor quantized_gemv_reference(const at::Tensor& x, const QuantizedWeight& q, const at::Tensor& bias) {
    return at::linear(x, dequantize_reference(q), bias);
}

bool quantized_gemv_applies(const at::Tensor& x, const QuantizedWeight& q) {
#ifdef TB_WITH_CUDA_KERNELS
    static const bool enabled = [] {
        const char* v = std::getenv("TUNEBENCH_QUANTIZED_GEMV");
        return !(v && std::strcmp(v, "0") == 0);
    }();
    DType dt;
    if (!enabled || !x.is_cuda() || x.scalar_type() != q.compute_dtype || !kernel_dtype(x.scalar_type(), &dt)) return false;
    const int64_t in = q.shape[1];
    // the scalar NF4 kernel beyond one launch's rows loses to dequantizing once and a GEMM (run_all,
    // H200, 2026-11-26); the tensor-core one (fp16/bf16, whole 64-blocks per row) reads 8 rows at once
    const int64_t max_rows = q.kind == QuantizedWeight::Kind::Int8 || nf4_uses_tensor_cores(dt, in) ? kMaxGemvRows : kRowsPerLaunch;
    if (x.size(-1) != in || x.numel() / in > max_rows || x.numel() == 0 || in % 32 != 0) return false;
    if (!x.is_contiguous() || reinterpret_cast<uintptr_t>(x.data_ptr()) % 16 != 0) return false;
    if (q.kind == QuantizedWeight::Kind::Int8)
        return q.cb.is_cuda() && q.cb.is_contiguous() && q.scb.is_contiguous() && reinterpret_cast<uintptr_t>(q.cb.data_ptr()) % 16 == 0;
    return q.packed.is_cuda() && q.blocksize == 64 && q.packed.is_contiguous() && reinterpret_cast<uintptr_t>(q.packed.data_ptr()) % 16 == 0 &&
           (q.double_quant ? q.qabsmax.is_contiguous() && q.absmax2.is_contiguous() : q.absmax.is_contiguous());
#else
    (void)x;
    (void)q;
    return false;
#endif
}

#ifdef TB_WITH_CUDA_KERNELS
namespace {
// y (+)= x · Wᵀ by the kernel; the caller checked quantized_gemv_applies.
void run_kernel(const at::Tensor& x, const QuantizedWeight& q, at::Tensor& y, bool accumulate, const at::Tensor& bias = {}) {
    const c10::cuda::CUDAGuard guard(x.device());
    QuantizedGemvArgs a{};
    a.x = x.data_ptr();
    a.m = x.numel() / q.shape[1];
    a.in = q.shape[1];
    a.out = q.shape[0];
    a.y = y.data_ptr();
    a.accumulate = accumulate;
    if (bias.defined()) a.bias = bias.data_ptr();
    kernel_dtype(x.scalar_type(), &a.dtype);
    a.stream = c10::cuda::getCurrentCUDAStream().stream();
    cudaError_t err;
    if (q.kind == QuantizedWeight::Kind::Int8) {
        a.cb = q.cb.data_ptr<int8_t>();
        a.scb = q.scb.data_ptr<float>();
        err = int8_gemv(a);
    } else {
        nf4_blocks(q, &a.nf4);
        err = nf4_gemv(a);
    }
    if (err != cudaSuccess) throw Error(std::string("quantized GEMV CUDA kernel failed: ") + cudaGetErrorString(err));
}
}  // namespace
#endif

at::Tensor quantized_gemv(const at::Tensor& x, const QuantizedWeight& q, const at::Tensor& bias) {
#ifdef TB_WITH_CUDA_KERNELS
    const bool bias_fits = !bias.defined() || (bias.scalar_type() == x.scalar_type() && bias.device() == x.device() &&
                                               bias.is_contiguous() && bias.numel() == q.shape[0]);
    if (bias_fits && quantized_gemv_applies(x, q)) {
        auto sizes = x.sizes().vec();
        sizes.back() = q.shape[0];
        auto y = at::empty(sizes, x.options());
        run_kernel(x, q, y, false, bias);
        return y;
    }
#endif
    auto y = at::linear(x, q.dequantize());
    return bias.defined() ? y + bias : y;  // two roundings, as before the kernel (the CPU stays the reference)
}

at::Tensor& quantized_gemv_accumulate(at::Tensor& residual, const at::Tensor& x, const QuantizedWeight& q) {
#ifdef TB_WITH_CUDA_KERNELS
    if (quantized_gemv_applies(x, q) && residual.is_contiguous() && residual.scalar_type() == x.scalar_type() &&
        residual.device() == x.device() && residual.numel() == x.numel() / q.shape[1] * q.shape[0]) {
        run_kernel(x, q, residual, true);
        return residual;
    }
#endif
    return residual.add_(quantized_gemv(x, q));
}

}  // namespace tb::kernels
