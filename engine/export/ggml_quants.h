// ggml's block formats as GGUF stores them (FORMATS.md §2): F16, BF16, Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q5_K,
// Q6_K,
// quantized row by row as ggml's reference quantizers do (`quantize_row_*_ref`, float32 arithmetic
// in the same order, no FMA: this file is compiled with -ffp-contract=off), and dequantized back.
// Torch-free: rows of float in, bytes out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tb::ggml {

enum class Type : uint32_t { F32 = 0, F16 = 1, Q4_0 = 2, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q4_K = 12, Q5_K = 13, Q6_K = 14, BF16 = 30 };

struct TypeTraits {
    const char* name;
    int64_t block;        // elements per block
    int64_t block_bytes;  // bytes per block
};
const TypeTraits& traits(Type t);
// "F16", "Q4_K", … (case-insensitive) → the type; throws ConfigError listing the supported ones.
Type type_from_name(const std::string& name);

// Bytes of `rows` rows of `cols` elements; cols must be a multiple of the block size.
size_t row_bytes(Type t, int64_t cols);

// Quantizes `rows` rows of `cols` floats (row-major) into out (rows × row_bytes). Throws
// ConfigError when cols is not a multiple of the type's block size.
void quantize(Type t, const float* x, int64_t rows, int64_t cols, uint8_t* out);
std::vector<uint8_t> quantize(Type t, const float* x, int64_t rows, int64_t cols);
// The inverse (lossy for the block types): rows × cols floats.
void dequantize(Type t, const uint8_t* data, int64_t rows, int64_t cols, float* out);

// IEEE binary16 / bfloat16 conversions as ggml makes them (round to nearest even; bf16 NaN quiet).
uint16_t fp32_to_fp16(float f);
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);
float bf16_to_fp32(uint16_t h);

}  // namespace tb::ggml
