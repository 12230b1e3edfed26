// Weight naming, loading (tensor by tensor, shape-checked against config.json), random
// initialisation and saving for the decoder. Names are exactly the HF checkpoint keys.
#include <ATen/Context.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/log.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/file_to_device.h"
#include "io/tensor_io.h"
#include "model/decoder.h"
#include "export/ggml_quants.h"
#include "io/gguf_reader.h"
#include "model/bnb_checkpoint.h"
#include "model/arch/weight_layout.h"
#include "model/gguf_layout.h"
#include "model/quantization.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <thread>

namespace tb {
namespace fs = std::filesystem;

namespace {
std::string shape_str(c10::IntArrayRef s) {
    std::ostringstream os;
    os << "[";
    for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
    os << "]";
    return os.str();
}

// TUNEBENCH_DIRECT_LOAD=0 reads through the mapping on a GPU too (for comparison).
bool direct_loading_enabled() {
#ifdef TB_WITH_CUDA_KERNELS
    const char* v = std::getenv("TUNEBENCH_DIRECT_LOAD");
    return !(v && std::string(v) == "0");
#else
    return false;
#endif
}

int direct_load_threads() { return static_cast<int>(std::clamp(std::thread::hardware_concurrency() / 2, 2u, 8u)); }
}  // namespace

at::Device resolve_device(const std::string& name) {
    if (name == "auto") return at::hasCUDA() ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
    if (name == "cpu") return at::kCPU;
    if (name.rfind("cuda", 0) == 0) {
        if (!at::hasCUDA()) {
            throw ConfigError("device '" + name + "' requested but this build or machine has no CUDA",
                              "use --device cpu, or build against a CUDA LibTorch (see README)");
        }
        return at::Device(name);
    }
    throw ConfigError("device '" + name + "' is not recognised", "use cpu, cuda, cuda:N or auto");
}

at::ScalarType resolve_dtype(const std::string& name, const ModelConfig& config, const at::Device& device) {
    if (name != "auto") return io::parse_dtype_name(name);
    if (device.is_cpu()) return at::kFloat;
    return io::parse_dtype_name(config.torch_dtype);
}

Model::Model(ModelConfig config, at::ScalarType dtype, at::Device device)
    : config_(std::move(config)), dtype_(dtype), device_(device) {
    build_names();
    rope_ = Rope(config_, dtype_, device_);
}

namespace {
// The decoder member a layer weight of the family's table fills (model/arch/weight_layout.h).
Linear* linear_of(DecoderLayer& L, LayerSlot slot) {
    switch (slot) {
        case LayerSlot::Qkv: return &L.qkv;
        case LayerSlot::Q: return &L.q;
        case LayerSlot::K: return &L.k;
        case LayerSlot::V: return &L.v;
        case LayerSlot::O: return &L.o;
        case LayerSlot::GateUp: return &L.gate_up;
        case LayerSlot::Gate: return &L.gate;
        case LayerSlot::Up: return &L.up;
        case LayerSlot::Down: return &L.down;
        default: return nullptr;
    }
}
Norm* norm_of(DecoderLayer& L, LayerSlot slot) {
    switch (slot) {
        case LayerSlot::InputNorm: return &L.input_norm;
        case LayerSlot::PostNorm: return &L.post_norm;
        case LayerSlot::QNorm: return &L.q_norm;
        case LayerSlot::KNorm: return &L.k_norm;
        case LayerSlot::AttnOutNorm: return &L.attn_out_norm;
        case LayerSlot::MlpOutNorm: return &L.mlp_out_norm;
        default: return nullptr;
    }
}
}  // namespace

void Model::build_names() {
    const auto& c = config_;
    const auto layout = weight_layout(c);
    // ChatGLM2/3 round their RMSNorm once, after the weight (MODELS.md §1.4)
    auto norm = [&](const std::string& n) { return Norm{n, {}, {}, c.rms_norm_eps, c.arch == Arch::ChatGLM}; };
    layers_.assign(c.num_hidden_layers, {});
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        for (const auto& w : layout.layer) {
            const auto name = layout.layer_module(i, w.module);
            if (Linear* l = linear_of(layers_[i], w.slot)) l->name = name;
            else *norm_of(layers_[i], w.slot) = norm(name);
        }
    }
    embed_name_ = layout.embed;
    final_norm_ = norm(layout.final_norm);
    lm_head_.name = layout.lm_head;
}

namespace {
// Every expected tensor: key, slot, shape.
struct Slot {
    std::string key;
    at::Tensor* tensor;
    std::vector<int64_t> shape;
};

std::vector<Slot> expected_slots(const ModelConfig& c, at::Tensor& embed, const std::string& embed_name,
                                 std::vector<DecoderLayer>& layers, Norm& final_norm, Linear& head) {
    const auto layout = weight_layout(c);
    std::vector<Slot> s;
    s.push_back({embed_name, &embed, {c.vocab_size, c.hidden_size}});
    for (auto& L : layers) {
        for (const auto& w : layout.layer) {
            Linear* l = linear_of(L, w.slot);
            Norm* n = l ? nullptr : norm_of(L, w.slot);
            const std::string& name = l ? l->name : n->name;
            s.push_back({name + ".weight", l ? &l->weight : &n->weight, w.shape});
            if (w.bias) s.push_back({name + ".bias", l ? &l->bias : &n->bias, {w.shape[0]}});
        }
    }
    s.push_back({final_norm.name + ".weight", &final_norm.weight, {c.hidden_size}});
    if (layout.final_norm_bias) s.push_back({final_norm.name + ".bias", &final_norm.bias, {c.hidden_size}});
    if (!c.tie_word_embeddings) s.push_back({head.name + ".weight", &head.weight, {c.vocab_size, c.hidden_size}});
    return s;
}
}  // namespace

std::vector<std::pair<std::string, at::Tensor*>> Model::named_weights() {
    std::vector<std::pair<std::string, at::Tensor*>> out;
    for (auto& s : expected_slots(config_, embed_, embed_name_, layers_, final_norm_, lm_head_))
        out.emplace_back(s.key, s.tensor);
    return out;
}

namespace {
// QLoRA's load: the linear's weight, just read, replaced by its NF4 or int8 form
void quantize_loaded(Linear& l, const LoadOptions& options) {
    l.quant = std::make_shared<QuantizedWeight>(options.quantization_bit == 4 ? quantize_nf4(l.weight, options.double_quantization)
                                                                               : quantize_int8(l.weight));
    l.weight = at::Tensor();
}

// HF's half-split q/k rows back from llama.cpp's interleaved pairs (FORMATS.md §1.7)
at::Tensor unpermute_rows(const at::Tensor& w, int64_t heads) {
    auto shape = w.sizes().vec();
    std::vector<int64_t> split = {heads, w.size(0) / heads / 2, 2};
    split.insert(split.end(), shape.begin() + 1, shape.end());
    return w.reshape(split).transpose(1, 2).reshape(shape).contiguous();
}

// A model from a GGUF file (model/gguf_layout.h): every weight dequantized to fp32 on the CPU,
// LLaMA's q/k permutation undone, then in the model's dtype on its device (quantized to NF4/int8
// there when asked, as a checkpoint's weights are).
void load_gguf_weights(Model& m, const fs::path& file, const std::vector<Slot>& slots, const at::Device& device,
                       const std::map<const at::Tensor*, Linear*>& quantize_on_load, const LoadOptions& options) {
    io::GgufReader r(file);
    int64_t done = 0;
    for (const auto& slot : slots) {
        const auto name = gguf_tensor_name(slot.key, m.config());
        const auto* t = name ? r.tensor(name->name) : nullptr;
        if (!t) throw FileError(file.string() + " has no tensor for " + slot.key, "it is not a complete model file");
        if (t->shape != slot.shape)
            throw FileError(file.string() + ": tensor " + t->name + " has shape " + shape_str(t->shape) + ", its metadata implies " +
                                shape_str(slot.shape),
                            "the file is damaged");
        auto w = at::empty(slot.shape, at::kFloat);
        const int64_t cols = slot.shape.back();
        ggml::dequantize(static_cast<ggml::Type>(t->type), t->data, w.numel() / cols, cols, w.data_ptr<float>());
        if (name->permute) w = unpermute_rows(w, name->heads);
        *slot.tensor = w.to(at::TensorOptions().dtype(m.dtype()).device(device));
        if (auto q = quantize_on_load.find(slot.tensor); q != quantize_on_load.end()) quantize_loaded(*q->second, options);
        if (options.progress) options.progress(++done, static_cast<int64_t>(slots.size()));
    }
}
}  // namespace

std::shared_ptr<Model> Model::load(const fs::path& folder, const LoadOptions& options) {
    ModelConfig config = ModelConfig::from_folder(folder);
    at::Device device = resolve_device(options.device);
    at::ScalarType dtype = resolve_dtype(options.dtype, config, device);
    std::shared_ptr<Model> m(new Model(config, dtype, device));
    m->attention_kernel_ = kernel_for_flash_attn(options.flash_attn);
    auto slots = expected_slots(m->config_, m->embed_, m->embed_name_, m->layers_, m->final_norm_, m->lm_head_);
    std::map<const at::Tensor*, Linear*> quantize_on_load, prequantized;
    const auto bnb_kind = prequantized_kind(folder);  // bitsandbytes NF4 or int8 (model/bnb_checkpoint.h)
    const bool prequantized_checkpoint = bnb_kind.has_value();
    if (prequantized_checkpoint)
        for (Linear* l : m->linears_for_load()) prequantized[&l->weight] = l;
    if (options.quantization_bit) {
        if (options.quantization_bit != 4 && options.quantization_bit != 8)
            throw ConfigError("quantization_bit " + std::to_string(options.quantization_bit) + " is not supported", "use 4 or 8");
        for (Linear* l : m->linears_for_load()) quantize_on_load[&l->weight] = l;
    }
    if (const auto gguf = gguf_model_file(folder)) {
        load_gguf_weights(*m, *gguf, slots, device, quantize_on_load, options);
        if (config.tie_word_embeddings) m->lm_head_.weight = m->embed_;
        log::debug("loaded ", slots.size(), " tensors from ", gguf->string());
        return m;
    }
    io::Checkpoint ckpt(folder);
    int64_t done = 0;
    // On a GPU the tensors stored in the model's dtype are read straight into device memory by
    // several threads (io/file_to_device.h); the rest, and every other device, go through the mapping.
    std::vector<io::FileRange> direct;
    const bool read_direct = device.is_cuda() && direct_loading_enabled();
    const bool int8 = bnb_kind == "int8";
    for (auto& slot : slots) {
        // a quantized linear: 4-bit by its quant_state, 8-bit by its int8 rows (its SCB is then required)
        if (auto p = prequantized.find(slot.tensor);
            p != prequantized.end() && (int8 ? ckpt.has(slot.key) && ckpt.view(slot.key).dtype == "I8"
                                             : ckpt.has(slot.key + ".quant_state.bitsandbytes__nf4"))) {
            auto q = int8 ? read_bnb_8bit(ckpt, slot.key, dtype, device) : read_bnb_4bit(ckpt, slot.key, dtype, device);
            if (q.shape != slot.shape) {
                throw FileError(std::string(int8 ? "8-bit" : "4-bit") + " weight '" + slot.key + "' has shape " + shape_str(q.shape) + " but config.json implies " +
                                    shape_str(slot.shape),
                                "config.json does not belong to these weights");
            }
            p->second->quant = std::make_shared<QuantizedWeight>(std::move(q));
            p->second->weight = at::Tensor();
            if (options.progress) options.progress(++done, static_cast<int64_t>(slots.size()));
            continue;
        }
        if (!ckpt.has(slot.key)) {
            throw FileError("weight '" + slot.key + "' is missing from the checkpoint in " + folder.string(),
                            "config.json (model_type " + config.model_type +
                                ") does not match these weights, or a shard is missing");
        }
        const auto& view = ckpt.view(slot.key);
        if (view.shape != slot.shape) {
            throw FileError("weight '" + slot.key + "' in " + ckpt.file_of(slot.key).string() + " has shape " +
                                shape_str(view.shape) + " but config.json implies " + shape_str(slot.shape),
                            "config.json does not belong to these weights (check hidden_size, heads, "
                            "intermediate/ffn size and vocab size)");
        }
        const bool quantize = quantize_on_load.count(slot.tensor) != 0;
        if (read_direct && !quantize && io::is_known_dtype(view.dtype) && io::scalar_type_of(view.dtype) == dtype) {
            *slot.tensor = at::empty(slot.shape, at::TensorOptions().dtype(dtype).device(device));
            direct.push_back({ckpt.file_of(slot.key).string(), ckpt.offset_of(slot.key), view.nbytes, slot.tensor->data_ptr()});
            continue;
        }
        *slot.tensor = io::to_tensor(view, dtype, device);
        if (auto q = quantize_on_load.find(slot.tensor); q != quantize_on_load.end() && !prequantized_checkpoint)
            quantize_loaded(*q->second, options);
        if (options.progress) options.progress(++done, static_cast<int64_t>(slots.size()));
    }
    if (!direct.empty()) {
#ifdef TB_WITH_CUDA_KERNELS
        const auto error = io::copy_files_to_device(direct, device.has_index() ? device.index() : 0, direct_load_threads());
        if (!error.empty()) throw FileError("loading " + folder.string() + " onto " + device.str() + ": " + error);
#endif
        if (options.progress) options.progress(static_cast<int64_t>(slots.size()), static_cast<int64_t>(slots.size()));
    }
    if (config.tie_word_embeddings) m->lm_head_.weight = m->embed_;
    log::debug("loaded ", slots.size(), " tensors from ", folder.string(), " (", direct.size(), " read straight to the GPU)");
    return m;
}

std::shared_ptr<Model> Model::random(const ModelConfig& config, uint64_t seed, at::ScalarType dtype, at::Device device) {
    std::shared_ptr<Model> m(new Model(config, dtype, device));
    // On CUDA the numbers are drawn there (a 6B model would take minutes on the CPU); the CPU
    // stream stays the reference for tests.
    at::Generator gen = at::detail::createCPUGenerator(seed);
    if (device.is_cuda()) {
        gen = at::globalContext().defaultGenerator(device);
        gen.set_current_seed(seed);
    }
    for (auto& slot : expected_slots(m->config_, m->embed_, m->embed_name_, m->layers_, m->final_norm_, m->lm_head_)) {
        auto t = at::empty(slot.shape, at::TensorOptions().dtype(at::kFloat).device(device.is_cuda() ? device : at::Device(at::kCPU)));
        t.normal_(0.0, 0.02, gen);
        const auto& k = slot.key;
        const bool bias = k.size() > 5 && k.compare(k.size() - 5, 5, ".bias") == 0;
        if (k.find("norm") != std::string::npos && !bias) t = t * 5.0 + 1.0;  // norms near 1, not exactly 1
        if (bias) t = t * 5.0;
        *slot.tensor = t.to(device, dtype);
    }
    if (config.tie_word_embeddings) m->lm_head_.weight = m->embed_;
    return m;
}

std::vector<std::pair<std::string, at::Tensor>> Model::tied_copies() const {
    if (config_.arch == Arch::ChatGLM6B && config_.tie_word_embeddings) return {{lm_head_.name + ".weight", embed_}};
    return {};
}

void Model::save(const fs::path& folder) const {
    fs::create_directories(folder);
    auto self = const_cast<Model*>(this);
    io::NamedTensors tensors;
    for (auto& [name, t] : self->named_weights()) tensors.emplace_back(name, *t);
    for (auto& copy : tied_copies()) tensors.push_back(std::move(copy));
    io::save_safetensors(folder / "model.safetensors", tensors);
    ModelConfig c = config_;
    c.torch_dtype = io::dtype_name(dtype_);
    io::write_text_atomically(folder / "config.json", c.to_json_text());
    nlohmann::ordered_json gen;
    if (c.bos_token_id) gen["bos_token_id"] = *c.bos_token_id;
    if (!c.eos_token_ids.empty()) gen["eos_token_id"] = c.eos_token_ids.size() == 1 ? nlohmann::ordered_json(c.eos_token_ids[0]) : nlohmann::ordered_json(c.eos_token_ids);
    if (c.pad_token_id) gen["pad_token_id"] = *c.pad_token_id;
    io::write_text_atomically(folder / "generation_config.json", gen.dump(2) + "\n");
}

}  // namespace tb
