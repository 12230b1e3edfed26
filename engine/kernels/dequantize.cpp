// Dequantization: ATen reference and dispatch; see dequantize.h.
#include "kernels/dequantize.h"

#include <ATen/ATen.h>

#include <cstring>

#include "core/error.h"
#include "kernels/nf4_blocks.h"
#include "model/quantization.h"

#ifdef TB_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/dequantize_cuda.h"
#include "kernels/kernel_dtype.h"
#endif

namespace tb::kernels {

at::Tensor dequantize_reference(const QuantizedWeight& q) {
    if (q.kind == QuantizedWeight::Kind::Int8) return (q.cb.to(at::kFloat) * (q.scb / 127.0f).unsqueeze(1)).to(q.compute_dtype);
    const int64_t n = q.shape[0] * q.shape[1];
    auto codes = at::stack({at::bitwise_right_shift(q.packed, 4), at::bitwise_and(q.packed, 15)}, 1).view({-1});
    auto values = nf4_code_book(q.packed.device()).index_select(0, codes.narrow(0, 0, n).to(at::kLong));
    const int64_t blocks = (n + q.blocksize - 1) / q.blocksize;
    auto scales = q.block_absmax();
    auto padded = at::constant_pad_nd(values, {0, blocks * q.blocksize - n}).view({blocks, q.blocksize});
    return (padded * scales.unsqueeze(1)).view({-1}).narrow(0, 0, n).view(q.shape).to(q.compute_dtype);
}

void nf4_blocks(const QuantizedWeight& q, Nf4Blocks* out) {
    Nf4Blocks& b = *out;
    b.packed = q.packed.data_ptr<uint8_t>();
    if (q.double_quant) {
        b.qabsmax = q.qabsmax.data_ptr<uint8_t>();
        b.absmax2 = q.absmax2.data_ptr<float>();
        b.offset = q.offset;
    } else {
        b.absmax = q.absmax.data_ptr<float>();
    }
    // the tables as the reference uses them (built once, on the CPU)
    static const at::Tensor code = nf4_code_book(at::kCPU).contiguous(), map = dynamic_map(at::kCPU).contiguous();
    std::memcpy(b.code, code.data_ptr<float>(), sizeof b.code);
    std::memcpy(b.map, map.data_ptr<float>(), sizeof b.map);
}

at::Tensor dequantize(const QuantizedWeight& q) {
#ifdef TB_WITH_CUDA_KERNELS
    DType dt;
    const bool on_gpu = q.kind == QuantizedWeight::Kind::Int8 ? q.cb.is_cuda() : q.packed.is_cuda();
    const bool contiguous = q.kind == QuantizedWeight::Kind::Int8
                                ? q.cb.is_contiguous() && q.scb.is_contiguous()
                                : q.packed.is_contiguous() && (q.double_quant ? q.qabsmax.is_contiguous() && q.absmax2.is_contiguous()
                                                                              : q.absmax.is_contiguous());
    if (on_gpu && contiguous && kernel_dtype(q.compute_dtype, &dt)) {
        const at::Tensor& any = q.kind == QuantizedWeight::Kind::Int8 ? q.cb : q.packed;
        const c10::cuda::CUDAGuard guard(any.device());
        auto out = at::empty(q.shape, any.options().dtype(q.compute_dtype));
        const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
        cudaError_t err;
        if (q.kind == QuantizedWeight::Kind::Int8) {
            err = int8_dequantize({q.cb.data_ptr<int8_t>(), q.scb.data_ptr<float>(), q.shape[0], q.shape[1], out.data_ptr(), dt, stream});
        } else {
            Nf4DequantArgs a{};
            nf4_blocks(q, &a.nf4);
            a.n = q.shape[0] * q.shape[1];
            a.blocksize = q.blocksize;
            a.out = out.data_ptr();
            a.dtype = dt;
            a.stream = stream;
            err = nf4_dequantize(a);
        }
        if (err != cudaSuccess) throw Error(std::string("dequantization CUDA kernel failed: ") + cudaGetErrorString(err));
        return out;
    }
#endif
    return dequantize_reference(q);
}

}  // namespace tb::kernels
