#include "model/bnb_checkpoint.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/json_text.h"

namespace tb {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kQuantState = ".quant_state.bitsandbytes__nf4";

std::string dtype_text(at::ScalarType t) { return io::dtype_name(t); }  // "bfloat16", "float16", "float32"

// Python's repr of a float, as json.dumps writes it: the shortest digits that read back as v
// (the nearest such, as std::to_chars picks them), positional for exponents -4..15, else d.ddde-XX.
std::string python_float(double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    const std::string sci(buf, r.ptr);  // e.g. "-1.3098526000976562e-01"
    const size_t e = sci.find('e');
    const bool negative = sci[0] == '-';
    std::string digits = sci.substr(negative ? 1 : 0, e - (negative ? 1 : 0));
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    const int exponent = std::stoi(sci.substr(e + 1));
    std::string out = negative ? "-" : "";
    if (exponent < -4 || exponent >= 16) {
        out += digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "");
        const int a = std::abs(exponent);
        return out + (exponent < 0 ? "e-" : "e+") + (a < 10 ? "0" : "") + std::to_string(a);
    }
    if (exponent < 0) return out + "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    if (static_cast<int>(digits.size()) <= exponent + 1) return out + digits + std::string(static_cast<size_t>(exponent + 1) - digits.size(), '0') + ".0";
    return out + digits.substr(0, static_cast<size_t>(exponent + 1)) + "." + digits.substr(static_cast<size_t>(exponent + 1));
}

at::Tensor component(const io::Checkpoint& ckpt, const std::string& name, const std::string& want_dtype,
                     at::ScalarType as, const at::Device& device) {
    if (!ckpt.has(name)) {
        throw FileError("the quantized weight's component '" + name + "' is missing from the checkpoint",
                        "the bitsandbytes checkpoint is incomplete: export or download it again");
    }
    const auto& v = ckpt.view(name);
    if (v.dtype != want_dtype) {
        throw FileError("'" + name + "' in " + ckpt.file_of(name).string() + " is " + v.dtype + ", expected " + want_dtype,
                        "the bitsandbytes checkpoint is damaged or of another version");
    }
    return io::to_tensor(v, as, device);
}

}  // namespace

std::optional<std::string> prequantized_kind(const fs::path& folder) {
    const fs::path file = folder / "config.json";
    if (!fs::exists(file)) return std::nullopt;
    const auto config = io::parse_json(io::read_file(file), file.string());
    if (!config.is_object() || !config.contains("quantization_config")) return std::nullopt;
    const json& q = config["quantization_config"];
    const std::string method = q.is_object() ? q.value("quant_method", std::string()) : std::string();
    if (method != "bitsandbytes") {
        throw UnsupportedError(file.string() + ": quantization_config.quant_method '" + method + "' is not supported",
                               "Tunebench reads bitsandbytes 4-bit (NF4) checkpoints; use the unquantized model");
    }
    if (q.value("load_in_8bit", false)) {
        if (q.value("llm_int8_has_fp16_weight", false)) {
            throw UnsupportedError(file.string() + ": a bitsandbytes 8-bit checkpoint with llm_int8_has_fp16_weight keeps fp16 weights",
                                   "use the unquantized model, or one saved with int8 weights");
        }
        return "int8";
    }
    if (!q.value("load_in_4bit", false)) {
        throw UnsupportedError(file.string() + ": its bitsandbytes quantization_config has neither load_in_4bit nor load_in_8bit",
                               "use the unquantized model");
    }
    if (q.value("bnb_4bit_quant_type", std::string("fp4")) != "nf4") {
        throw UnsupportedError(file.string() + ": bitsandbytes FP4 checkpoints are not read", "use an NF4 checkpoint or the unquantized model");
    }
    return "nf4";
}

QuantizedWeight read_bnb_4bit(const io::Checkpoint& ckpt, const std::string& key, at::ScalarType compute_dtype,
                              const at::Device& device) {
    const auto state_bytes = component(ckpt, key + kQuantState, "U8", at::kByte, at::kCPU);
    const std::string text(reinterpret_cast<const char*>(state_bytes.data_ptr<uint8_t>()), static_cast<size_t>(state_bytes.numel()));
    json state;
    try {
        state = io::parse_json(text, key + kQuantState);
    } catch (const std::exception& e) {
        throw FileError(key + kQuantState + " is not JSON: " + e.what(), "the bitsandbytes checkpoint is damaged");
    }
    QuantizedWeight q;
    q.kind = QuantizedWeight::Kind::NF4;
    q.compute_dtype = compute_dtype;
    try {
        if (state.at("quant_type") != "nf4") throw FileError(key + ": quant_type " + state.at("quant_type").dump() + ", expected \"nf4\"");
        q.blocksize = state.at("blocksize").get<int64_t>();
        q.shape = state.at("shape").get<std::vector<int64_t>>();
        q.double_quant = state.contains("nested_offset");
        if (q.double_quant) {
            if (state.value("nested_blocksize", 0) != 256)
                throw FileError(key + ": nested_blocksize " + state.value("nested_blocksize", json()).dump() + ", expected 256");
            q.offset = state.at("nested_offset").get<float>();
        }
    } catch (const json::exception& e) {
        throw FileError(key + kQuantState + " lacks what a 4-bit weight needs (" + e.what() + ")", "the bitsandbytes checkpoint is damaged");
    }
    if (q.shape.size() != 2 || q.blocksize != 64) {
        throw UnsupportedError(key + ": a 4-bit weight of blocksize " + std::to_string(q.blocksize) + " and " +
                                   std::to_string(q.shape.size()) + " dimensions",
                               "Tunebench reads 2-D weights quantized in blocks of 64 (bitsandbytes' default)");
    }
    const int64_t n = q.shape[0] * q.shape[1], blocks = (n + q.blocksize - 1) / q.blocksize;
    q.packed = component(ckpt, key, "U8", at::kByte, device).reshape({-1});
    const auto quant_map = component(ckpt, key + ".quant_map", "F32", at::kFloat, at::kCPU);
    if (!at::equal(quant_map, nf4_code_book(at::kCPU))) throw FileError(key + ".quant_map is not the NF4 table", "");
    if (q.double_quant) {
        q.qabsmax = component(ckpt, key + ".absmax", "U8", at::kByte, device).reshape({-1});
        q.absmax2 = component(ckpt, key + ".nested_absmax", "F32", at::kFloat, device).reshape({-1});
        const auto map = component(ckpt, key + ".nested_quant_map", "F32", at::kFloat, at::kCPU);
        if (!at::equal(map, dynamic_map(at::kCPU)))
            throw FileError(key + ".nested_quant_map is not bitsandbytes' signed dynamic map", "");
    } else {
        q.absmax = component(ckpt, key + ".absmax", "F32", at::kFloat, device).reshape({-1});
    }
    const int64_t scales = q.double_quant ? q.qabsmax.numel() : q.absmax.numel();
    if (q.packed.numel() != (n + 1) / 2 || scales != blocks || (q.double_quant && q.absmax2.numel() != (blocks + 255) / 256)) {
        throw FileError(key + ": the 4-bit components do not fit its shape [" + std::to_string(q.shape[0]) + ", " +
                            std::to_string(q.shape[1]) + "]",
                        "the bitsandbytes checkpoint is damaged");
    }
    return q;
}

io::NamedTensors bnb_4bit_tensors(const std::string& key, const QuantizedWeight& q) {
    const int64_t n = q.shape[0] * q.shape[1];
    io::NamedTensors t;
    t.emplace_back(key, q.packed.reshape({(n + 1) / 2, 1}));
    t.emplace_back(key + ".absmax", q.double_quant ? q.qabsmax : q.absmax);
    if (q.double_quant) {
        t.emplace_back(key + ".nested_absmax", q.absmax2);
        t.emplace_back(key + ".nested_quant_map", dynamic_map(q.absmax2.device()));
    }
    t.emplace_back(key + ".quant_map", nf4_code_book(q.packed.device()));
    // json.dumps of QuantState.as_dict's plain items: that key order, Python's separators
    std::string state = "{\"quant_type\": \"nf4\", \"blocksize\": " + std::to_string(q.blocksize) + ", \"dtype\": \"" +
                        dtype_text(q.compute_dtype) + "\", \"shape\": [" + std::to_string(q.shape[0]) + ", " +
                        std::to_string(q.shape[1]) + "]";
    if (q.double_quant)
        state += ", \"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": " + python_float(q.offset);
    state += "}";
    auto bytes = at::empty({static_cast<int64_t>(state.size())}, at::kByte);
    std::memcpy(bytes.data_ptr<uint8_t>(), state.data(), state.size());
    t.emplace_back(key + kQuantState, bytes);
    return t;
}

namespace {
// "model.layers.0.mlp.up_proj.weight" → "model.layers.0.mlp.up_proj": SCB and weight_format are the module's.
std::string module_of(const std::string& key) {
    constexpr std::string_view suffix = ".weight";
    if (key.size() <= suffix.size() || key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0)
        throw FileError("'" + key + "' is not a weight's name (….weight)", "");
    return key.substr(0, key.size() - suffix.size());
}
}  // namespace

QuantizedWeight read_bnb_8bit(const io::Checkpoint& ckpt, const std::string& key, at::ScalarType compute_dtype,
                              const at::Device& device) {
    const std::string module = module_of(key);
    QuantizedWeight q;
    q.kind = QuantizedWeight::Kind::Int8;
    q.compute_dtype = compute_dtype;
    q.cb = component(ckpt, key, "I8", at::kChar, device).contiguous();
    q.scb = component(ckpt, module + ".SCB", "F32", at::kFloat, device).reshape({-1}).contiguous();
    if (ckpt.has(module + ".weight_format")) {
        const auto format = component(ckpt, module + ".weight_format", "U8", at::kByte, at::kCPU);
        if (format.numel() != 1 || format.reshape({-1})[0].item<int64_t>() != 0) {
            throw UnsupportedError(module + ".weight_format is not 0 (row-major int8)",
                                   "save the model again with a current bitsandbytes, or use the unquantized model");
        }
    }
    if (q.cb.dim() != 2 || q.scb.numel() != q.cb.size(0)) {
        throw FileError(key + ": an 8-bit weight of shape " + std::to_string(q.cb.dim()) + "-D with " + std::to_string(q.scb.numel()) +
                            " row scales (" + module + ".SCB)",
                        "the bitsandbytes checkpoint is damaged");
    }
    q.shape = q.cb.sizes().vec();
    return q;
}

io::NamedTensors bnb_8bit_tensors(const std::string& key, const QuantizedWeight& q) {
    const std::string module = module_of(key);
    io::NamedTensors t;
    t.emplace_back(key, q.cb);
    t.emplace_back(module + ".SCB", q.scb);
    t.emplace_back(module + ".weight_format", at::zeros({}, at::TensorOptions().dtype(at::kByte).device(q.cb.device())));
    return t;
}

std::string bnb_8bit_quantization_config() {
    nlohmann::ordered_json q = {{"_load_in_4bit", false},
                                {"_load_in_8bit", true},
                                {"bnb_4bit_compute_dtype", "float32"},
                                {"bnb_4bit_quant_storage", "uint8"},
                                {"bnb_4bit_quant_type", "fp4"},
                                {"bnb_4bit_use_double_quant", false},
                                {"llm_int8_enable_fp32_cpu_offload", false},
                                {"llm_int8_has_fp16_weight", false},
                                {"llm_int8_skip_modules", nullptr},
                                {"llm_int8_threshold", 6.0},
                                {"load_in_4bit", false},
                                {"load_in_8bit", true},
                                {"quant_method", "bitsandbytes"}};
    return q.dump();
}

std::string bnb_4bit_quantization_config(at::ScalarType compute_dtype) {
    nlohmann::ordered_json q = {{"_load_in_4bit", true},
                                {"_load_in_8bit", false},
                                {"bnb_4bit_compute_dtype", dtype_text(compute_dtype)},
                                {"bnb_4bit_quant_storage", "uint8"},
                                {"bnb_4bit_quant_type", "nf4"},
                                {"bnb_4bit_use_double_quant", true},
                                {"llm_int8_enable_fp32_cpu_offload", false},
                                {"llm_int8_has_fp16_weight", false},
                                {"llm_int8_skip_modules", nullptr},
                                {"llm_int8_threshold", 6.0},
                                {"load_in_4bit", true},
                                {"load_in_8bit", false},
                                {"quant_method", "bitsandbytes"}};
    return q.dump();
}

}  // namespace tb
