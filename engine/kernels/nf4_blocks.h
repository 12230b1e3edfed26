// An NF4 weight as the CUDA kernels read it (bitsandbytes' layout, blocks of 64 or more values):
// raw pointers and the two lookup tables, no torch. Filled from a QuantizedWeight by
// kernels/dequantize.h's nf4_blocks().
#pragma once

#include <cstdint>

namespace tb::kernels {

struct Nf4Blocks {
    const uint8_t* packed = nullptr;   // element 2i in the high nibble of byte i
    const float* absmax = nullptr;     // [blocks] fp32 scales, or null with double quantization:
    const uint8_t* qabsmax = nullptr;  //   [blocks] dynamic-map codes of (absmax - offset)
    const float* absmax2 = nullptr;    //   [ceil(blocks / 256)]
    float offset = 0;
    float code[16];  // the NF4 code book
    float map[256];  // the signed dynamic map (double quantization)
};

}  // namespace tb::kernels
