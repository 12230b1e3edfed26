// bitsandbytes-compatible weight quantization for QLoRA (MODELS.md §7): NF4 in blocks of 64 with
// optional double quantization of the block scales (8-bit dynamic map, blocks of 256), and
// LLM.int8 row-wise int8. Weights stay quantized in memory and are dequantized per call (one CUDA
// kernel on a GPU: kernels/dequantize.h); the matmul runs in the compute dtype.
#pragma once

#include <ATen/ATen.h>

#include <vector>

namespace tb {

class Model;

struct QuantizedWeight {
    enum class Kind { NF4, Int8 } kind = Kind::NF4;
    std::vector<int64_t> shape;  // [out, in]
    at::ScalarType compute_dtype = at::kFloat;
    // NF4
    int64_t blocksize = 64;
    at::Tensor packed;   // uint8 [(n+1)/2]: first element in the high nibble
    at::Tensor absmax;   // fp32 [blocks] (without double quantization)
    bool double_quant = false;
    at::Tensor qabsmax;  // uint8 [blocks]: dynamic-map codes of absmax - offset
    at::Tensor absmax2;  // fp32 [ceil(blocks/256)]
    float offset = 0;
    // Int8
    at::Tensor cb;   // int8 [out, in]
    at::Tensor scb;  // fp32 [out]: per-row absmax

    at::Tensor dequantize() const;  // [out, in] in compute_dtype
    at::Tensor block_absmax() const;  // NF4 scales, fp32 (undoing double quantization)
    int64_t bytes() const;
};

at::Tensor nf4_code_book(const at::Device& device);   // 16 fp32 values
at::Tensor dynamic_map(const at::Device& device);     // 256 fp32 values (signed, Appendix A)

QuantizedWeight quantize_nf4(const at::Tensor& weight, bool double_quant, int64_t blocksize = 64);
QuantizedWeight quantize_int8(const at::Tensor& weight);

// Quantizes every decoder-layer linear (not embeddings, not the output head) in place.
// bits: 4 (NF4) or 8. Returns the bytes the quantized weights take.
int64_t quantize_model(Model& model, int bits, bool double_quant);

}  // namespace tb
