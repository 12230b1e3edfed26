// Quantized matrix-vector products: ATen reference and dispatch; see quantized_gemv.h.
#include "kernels/quantized_gemv.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "kernels/dequantize.h"
#include "model/quantization.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/kernel_dtype.h"
#include "kernels/quantized_gemv_cuda.h"
#endif

namespace tb::kernels {

at::Tensor quantized_gemv_reference(const at::Tensor& x, const QuantizedWeight& q) {
    return at::linear(x, dequantize_reference(q));
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
    // NF4 beyond one launch's rows loses to dequantizing once and a GEMM (run_all, H200, 2026-11-26)
    const int64_t max_rows = q.kind == QuantizedWeight::Kind::Int8 ? kMaxGemvRows : kRowsPerLaunch;
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

at::Tensor quantized_gemv(const at::Tensor& x, const QuantizedWeight& q) {
#ifdef TB_WITH_CUDA_KERNELS
    if (quantized_gemv_applies(x, q)) {
        const c10::cuda::CUDAGuard guard(x.device());
        auto sizes = x.sizes().vec();
        sizes.back() = q.shape[0];
        auto y = at::empty(sizes, x.options());
        QuantizedGemvArgs a{};
        a.x = x.data_ptr();
        a.m = x.numel() / q.shape[1];
        a.in = q.shape[1];
        a.out = q.shape[0];
        a.y = y.data_ptr();
        kernel_dtype(x.scalar_type(), &a.dtype);
        a.stream = c10::cuda::getCurrentCUDAStream().stream();
        cudaError_t err;
        if (q.kind == QuantizedWeight::Kind::Int8) {
            a.cb = q.cb.data_ptr<int8_t>();
            a.scb = q.scb.data_ptr<float>();
            err = int8_gemv(a);
        } else {
            a.packed = q.packed.data_ptr<uint8_t>();
            if (q.double_quant) {
                a.qabsmax = q.qabsmax.data_ptr<uint8_t>();
                a.absmax2 = q.absmax2.data_ptr<float>();
                a.offset = q.offset;
            } else {
                a.absmax = q.absmax.data_ptr<float>();
            }
            static const at::Tensor code = nf4_code_book(at::kCPU).contiguous(), map = dynamic_map(at::kCPU).contiguous();
            std::memcpy(a.code, code.data_ptr<float>(), sizeof a.code);
            std::memcpy(a.map, map.data_ptr<float>(), sizeof a.map);
            err = nf4_gemv(a);
        }
        if (err != cudaSuccess) throw Error(std::string("quantized GEMV CUDA kernel failed: ") + cudaGetErrorString(err));
        return y;
    }
#endif
    return at::linear(x, q.dequantize());
}

}  // namespace tb::kernels
