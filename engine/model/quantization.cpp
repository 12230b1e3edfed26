// NF4 / int8 quantization. Constants are bitsandbytes' (MODELS.md §7.1–7.3, Appendix A); the
// code choice uses the CUDA kernel's strict ">" thresholds, so codes match it except for
// all-zero blocks (CUDA's 0·(1/0) = NaN picks code 0; here code 7 — both dequantize to 0).
#include "model/quantization.h"

#include "kernels/dequantize.h"

#include <cstring>

#include "core/error.h"
#include "core/log.h"
#include "model/decoder.h"

namespace tb {
namespace {

const float kNf4[16] = {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
                        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
                        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
                        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};
// dQuantizeNF4's decision-tree thresholds, ascending; code = number of thresholds below x.
const float kNf4Thresholds[15] = {-0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f,
                                  -0.33967943489551544f, -0.23460740596055984f, -0.13791173323988914f,
                                  -0.045525018125772476f, 0.03979014977812767f, 0.1202552504837513f,
                                  0.2035212516784668f, 0.2920137718319893f, 0.3893125355243683f,
                                  0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f};
// create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8), fp32 bit patterns.
const uint32_t kDynamicMap[256] = {
    0xbf7e3333, 0xbf7a999a, 0xbf770000, 0xbf736666, 0xbf6fcccd, 0xbf6c3333, 0xbf68999a, 0xbf650000,
    0xbf616666, 0xbf5dcccd, 0xbf5a3333, 0xbf56999a, 0xbf530000, 0xbf4f6666, 0xbf4bcccd, 0xbf483333,
    0xbf44999a, 0xbf410000, 0xbf3d6666, 0xbf39cccd, 0xbf363334, 0xbf32999a, 0xbf2f0000, 0xbf2b6666,
    0xbf27cccd, 0xbf243334, 0xbf20999a, 0xbf1d0000, 0xbf196666, 0xbf15cccd, 0xbf123334, 0xbf0e999a,
    0xbf0b0000, 0xbf076666, 0xbf03cccc, 0xbf003333, 0xbef93332, 0xbef20000, 0xbeeacccc, 0xbee3999a,
    0xbedc6666, 0xbed53333, 0xbece0000, 0xbec6cccc, 0xbebf999a, 0xbeb86666, 0xbeb13333, 0xbeaa0000,
    0xbea2cccc, 0xbe9b999a, 0xbe946666, 0xbe8d3334, 0xbe860000, 0xbe7d9999, 0xbe6f3333, 0xbe60cccd,
    0xbe526666, 0xbe440000, 0xbe35999a, 0xbe273333, 0xbe18cccd, 0xbe0a6666, 0xbdf80000, 0xbddb3334,
    0xbdc9eb85, 0xbdc428f7, 0xbdbe6667, 0xbdb8a3d7, 0xbdb2e148, 0xbdad1eb8, 0xbda75c2a, 0xbda1999a,
    0xbd9bd70a, 0xbd96147b, 0xbd9051eb, 0xbd8a8f5d, 0xbd84cccd, 0xbd7e147b, 0xbd728f5d, 0xbd670a3d,
    0xbd5b851f, 0xbd500000, 0xbd447ae1, 0xbd38f5c3, 0xbd2d70a3, 0xbd21eb85, 0xbd166667, 0xbd0ae148,
    0xbcfeb852, 0xbce7ae15, 0xbcd0a3d7, 0xbcb9999a, 0xbca28f5d, 0xbc8b851f, 0xbc68f5c3, 0xbc3ae148,
    0xbc1f3b64, 0xbc160418, 0xbc0ccccd, 0xbc039581, 0xbbf4bc6a, 0xbbe24dd3, 0xbbcfdf3b, 0xbbbd70a4,
    0xbbab020d, 0xbb989374, 0xbb8624dd, 0xbb676c8a, 0xbb428f5c, 0xbb1db22d, 0xbaf1a9fc, 0xbaa7ef9d,
    0xba7765ff, 0xba59e83e, 0xba3c6a80, 0xba1eecc1, 0xba016f01, 0xb9c7e283, 0xb98ce705, 0xb923d70b,
    0xb8ba1f4b, 0xb88aefb3, 0xb8378034, 0xb7b24206, 0xb70205ff, 0xb65a1a94, 0xb513a3b7, 0x00000000,
    0x3513a3b7, 0x365a1a94, 0x370205ff, 0x37b24206, 0x38378034, 0x388aefb3, 0x38ba1f4b, 0x3923d70b,
    0x398ce705, 0x39c7e283, 0x3a016f01, 0x3a1eecc1, 0x3a3c6a80, 0x3a59e83e, 0x3a7765ff, 0x3aa7ef9d,
    0x3af1a9fc, 0x3b1db22d, 0x3b428f5c, 0x3b676c8a, 0x3b8624dd, 0x3b989374, 0x3bab020d, 0x3bbd70a4,
    0x3bcfdf3b, 0x3be24dd3, 0x3bf4bc6a, 0x3c039581, 0x3c0ccccd, 0x3c160418, 0x3c1f3b64, 0x3c3ae148,
    0x3c68f5c3, 0x3c8b851f, 0x3ca28f5d, 0x3cb9999a, 0x3cd0a3d7, 0x3ce7ae15, 0x3cfeb852, 0x3d0ae148,
    0x3d166667, 0x3d21eb85, 0x3d2d70a3, 0x3d38f5c3, 0x3d447ae1, 0x3d500000, 0x3d5b851f, 0x3d670a3d,
    0x3d728f5d, 0x3d7e147b, 0x3d84cccd, 0x3d8a8f5d, 0x3d9051eb, 0x3d96147b, 0x3d9bd70a, 0x3da1999a,
    0x3da75c2a, 0x3dad1eb8, 0x3db2e148, 0x3db8a3d7, 0x3dbe6667, 0x3dc428f7, 0x3dc9eb85, 0x3ddb3334,
    0x3df80000, 0x3e0a6666, 0x3e18cccd, 0x3e273333, 0x3e35999a, 0x3e440000, 0x3e526666, 0x3e60cccd,
    0x3e6f3333, 0x3e7d9999, 0x3e860000, 0x3e8d3334, 0x3e946666, 0x3e9b999a, 0x3ea2cccc, 0x3eaa0000,
    0x3eb13333, 0x3eb86666, 0x3ebf999a, 0x3ec6cccc, 0x3ece0000, 0x3ed53333, 0x3edc6666, 0x3ee3999a,
    0x3eeacccc, 0x3ef20000, 0x3ef93332, 0x3f003333, 0x3f03cccc, 0x3f076666, 0x3f0b0000, 0x3f0e999a,
    0x3f123334, 0x3f15cccd, 0x3f196666, 0x3f1d0000, 0x3f20999a, 0x3f243334, 0x3f27cccd, 0x3f2b6666,
    0x3f2f0000, 0x3f32999a, 0x3f363334, 0x3f39cccd, 0x3f3d6666, 0x3f410000, 0x3f44999a, 0x3f483333,
    0x3f4bcccd, 0x3f4f6666, 0x3f530000, 0x3f56999a, 0x3f5a3333, 0x3f5dcccd, 0x3f616666, 0x3f650000,
    0x3f68999a, 0x3f6c3333, 0x3f6fcccd, 0x3f736666, 0x3f770000, 0x3f7a999a, 0x3f7e3333, 0x3f800000};

at::Tensor from_floats(const float* v, int64_t n, const at::Device& device) {
    return at::from_blob(const_cast<float*>(v), {n}, at::kFloat).clone().to(device);
}

// Blockwise absmax of a flat fp32 tensor zero-padded to whole blocks: [blocks, size], [blocks].
std::pair<at::Tensor, at::Tensor> blocks_and_absmax(const at::Tensor& flat, int64_t size) {
    const int64_t n = flat.numel(), blocks = (n + size - 1) / size;
    auto padded = at::constant_pad_nd(flat, {0, blocks * size - n}).view({blocks, size});
    return {padded, padded.abs().amax(1)};
}

}  // namespace

at::Tensor nf4_code_book(const at::Device& device) { return from_floats(kNf4, 16, device); }

at::Tensor dynamic_map(const at::Device& device) {
    float v[256];
    std::memcpy(v, kDynamicMap, sizeof v);
    return from_floats(v, 256, device);
}

QuantizedWeight quantize_nf4(const at::Tensor& weight, bool double_quant, int64_t blocksize) {
    QuantizedWeight q;
    q.kind = QuantizedWeight::Kind::NF4;
    q.shape = weight.sizes().vec();
    q.compute_dtype = weight.scalar_type();
    q.blocksize = blocksize;
    const auto dev = weight.device();
    auto flat = weight.detach().to(at::kFloat).contiguous().view({-1});
    const int64_t n = flat.numel();
    auto [blocks, absmax] = blocks_and_absmax(flat, blocksize);
    auto t = blocks * at::reciprocal(absmax).unsqueeze(1);  // fp32 reciprocal, as the kernel
    auto codes = at::bucketize(t, from_floats(kNf4Thresholds, 15, dev), /*out_int32=*/false, /*right=*/false);
    codes = at::where(absmax.unsqueeze(1) == 0, at::full_like(codes, 7), codes).view({-1}).narrow(0, 0, n);
    if (n % 2) codes = at::constant_pad_nd(codes, {0, 1});
    codes = codes.view({-1, 2}).to(at::kByte);
    q.packed = at::bitwise_or(at::bitwise_left_shift(codes.select(1, 0), 4), codes.select(1, 1)).contiguous();
    q.double_quant = double_quant;
    if (!double_quant) {
        q.absmax = absmax;
        return q;
    }
    q.offset = absmax.mean().item<float>();
    auto shifted = absmax - q.offset;
    auto [blocks2, absmax2] = blocks_and_absmax(shifted, 256);
    auto t2 = blocks2 * at::reciprocal(absmax2).unsqueeze(1);
    auto map = dynamic_map(dev);
    auto mids = (map.narrow(0, 0, 255) + map.narrow(0, 1, 255)) * 0.5f;
    auto c2 = at::bucketize(t2, mids, false, false);
    c2 = at::where(absmax2.unsqueeze(1) == 0, at::full_like(c2, 127), c2);
    q.qabsmax = c2.view({-1}).narrow(0, 0, absmax.numel()).to(at::kByte).contiguous();
    q.absmax2 = absmax2;
    return q;
}

QuantizedWeight quantize_int8(const at::Tensor& weight) {
    QuantizedWeight q;
    q.kind = QuantizedWeight::Kind::Int8;
    q.shape = weight.sizes().vec();
    q.compute_dtype = weight.scalar_type();
    auto w = weight.detach().to(at::kFloat);
    q.scb = w.abs().amax(1);
    auto safe = at::where(q.scb == 0, at::ones_like(q.scb), q.scb);
    // 127 · (1 / absmax), not 127 / absmax: bitsandbytes writes `127.0 / row_stats`, which PyTorch
    // evaluates as a reciprocal times 127, and the rounding of ties follows that product
    q.cb = at::round(w * (safe.reciprocal() * 127.0f).unsqueeze(1)).clamp(-127, 127).to(at::kChar).contiguous();
    return q;
}

at::Tensor QuantizedWeight::block_absmax() const {
    if (!double_quant) return absmax;
    auto map = dynamic_map(qabsmax.device());
    auto idx = at::arange(qabsmax.numel(), at::TensorOptions().dtype(at::kLong).device(qabsmax.device())).floor_divide(256);
    return map.index_select(0, qabsmax.to(at::kLong)) * absmax2.index_select(0, idx) + offset;
}

at::Tensor QuantizedWeight::dequantize() const { return kernels::dequantize(*this); }

int64_t QuantizedWeight::bytes() const {
    int64_t b = 0;
    for (const auto* t : {&packed, &absmax, &qabsmax, &absmax2, &cb, &scb}) {
        if (t->defined()) b += t->numel() * t->element_size();
    }
    return b;
}

int64_t quantize_model(Model& model, int bits, bool double_quant) {
    if (bits != 4 && bits != 8) {
        throw ConfigError("quantization_bit " + std::to_string(bits) + " is not supported", "use 4 (NF4) or 8 (int8)");
    }
    int64_t bytes = 0;
    for (Linear* l : model.linears()) {
        if (l->quant) continue;
        l->quant = std::make_shared<QuantizedWeight>(bits == 4 ? quantize_nf4(l->weight, double_quant)
                                                               : quantize_int8(l->weight));
        l->weight = at::Tensor();
        bytes += l->quant->bytes();
    }
    log::info("quantized ", model.linears().size(), " linear layers to ", bits == 4 ? "NF4" : "int8",
              double_quant && bits == 4 ? " (double quantization)" : "", ": ", bytes / 1048576.0, " MiB");
    return bytes;
}

}  // namespace tb
