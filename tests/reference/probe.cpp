// tunebench_probe — the Tunebench side of the reference tests (tests/reference/*.py) and of the GPU logits checks: it runs the
// engine on inputs a Python test prepared and writes what the reference is compared with.
//   forward SPEC.json OUT.safetensors
//       SPEC: {"model": DIR, "adapter": DIR?, "dtype": "float32", "device": "cpu",
//              "flash_attn": "auto"|"disabled", "rows": [[ids], ...], "decode_steps": N}
//       writes, fp32: row<i>_full [T_i, V] (one row alone, one forward);
//       row<i>_decode [N+1, V] (prefill T_i-N-1 ids, then N+1 one-token steps through the KV cache:
//       the logits of positions T_i-N-1 … T_i-1); with several rows, batch [B, Tmax, V] (rows
//       left-padded with 0, key mask and positions counted from each row's first real token).
//   encode TOKENIZER_DIR TEMPLATE DATASET_DIR DATASET CUTOFF TRAIN_ON_PROMPT MASK_HISTORY OUT.jsonl
//       the SFT rows training would build (one JSON line each: input_ids, labels; skipped rows too)
//   encode ... OUT.jsonl [pack] [enable_thinking=true|false] [preserve_thinking=true|false]
//       pack: the same rows packed as training packs them (input_ids, labels, segments: each
//       example's length); the thinking flags as LLaMA-Factory's data arguments of those names
//   greedy SPEC.json OUT.json
//       SPEC: {"model": DIR, "dtype", "device", "prompts": [[ids], ...], "new_tokens": N, "cuda_graphs": bool};
//       OUT: per prompt the N ids greedy decoding gives through the decode context (the chat's path:
//       all prompts in one batch of slots, no stop token)
//   tokenize TOKENIZER_DIR TEXTS.json OUT.json
//       TEXTS: ["text", ...]; OUT: per text {"ids": encode(text), "decoded": decode(ids)}
//   read-bin FILE.bin OUT.safetensors        every tensor of a torch.save file, as read here
//   ggml-quantize IN.safetensors OUT.safetensors TYPE
//       every tensor (rows along its last dimension) as ggml TYPE (F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K):
//       <name>.bytes (uint8) and <name>.dequantized (fp32, the tensor's shape)
//   nf4 IN.safetensors OUT.safetensors DOUBLE_QUANT
//       quantize_nf4 of every tensor: <name>.packed, .absmax (or .qabsmax, .absmax2, .offset)
//   adalora SPEC.json IN.safetensors OUT.safetensors
//       SPEC: {"model": DIR, "targets": "q_proj,v_proj", "steps": N, AdaLoraConfig's init_r, target_r, tinit,
//              tfinal, total_step, deltaT, beta1, beta2}; IN: for each step s and adapted module M,
//       s<s>.M.lora_{A,B,E} (the values before the step's allocation) and .grad; OUT: s<s>.M.lora_E after
//       AdaLoraAllocator::update_and_allocate(s), s<s>.M.pattern (uint8, when there is one), s<s>.orth
//       (the orthogonal regulariser of the values before) and s<s>.budget
//   adalora-budget INIT TARGET TINIT TFINAL TOTAL DELTAT
//       adalora_budget at steps 0 … TOTAL + 1, as JSON [[budget, mask], ...]
//   similarity PAIRS.json OUT.json
//       PAIRS: [{"predict", "label"}, ...]; OUT: per pair the jieba words of both ("predict_words",
//       "label_words") and the scores by words ("words": [bleu4, rouge1, rouge2, rougeL]) and by
//       characters ("characters": the same), unrounded, 0…100
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

#include "adapters/adalora_allocator.h"
#include "adapters/lora_adapter.h"
#include "core/error.h"
#include "data/dataset_registry.h"
#include "data/sft_encoding.h"
#include "eval/jieba_segmenter.h"
#include "eval/text_metrics.h"
#include "infer/decode_context.h"
#include "export/ggml_quants.h"
#include "io/atomic_file.h"
#include "io/tensor_io.h"
#include "io/torch_bin.h"
#include "model/decoder.h"
#include "model/quantization.h"
#include "tokenizer/chat_template.h"
#include "train/batching.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

using namespace tb;
using json = nlohmann::json;

namespace {

at::Tensor ids_tensor(const std::vector<int64_t>& ids, const at::Device& device) {
    return at::tensor(ids, at::TensorOptions().dtype(at::kLong)).unsqueeze(0).to(device);
}

int forward(const std::string& spec_path, const std::string& out) {
    const json spec = json::parse(std::ifstream(spec_path));
    auto model = Model::load(spec.at("model").get<std::string>(),
                             {.dtype = spec.value("dtype", "float32"), .device = spec.value("device", "cpu"),
                              .flash_attn = spec.value("flash_attn", "auto")});
    if (spec.contains("adapter") && !spec["adapter"].is_null()) load_lora(*model, spec["adapter"].get<std::string>());
    const auto rows = spec.at("rows").get<std::vector<std::vector<int64_t>>>();
    const int64_t steps = spec.value("decode_steps", 0);
    const at::Device dev = model->device();
    c10::InferenceMode guard;
    io::NamedTensors result;
    auto host = [](const at::Tensor& t) { return t.to(at::kCPU, at::kFloat).contiguous(); };
    for (size_t r = 0; r < rows.size(); ++r) {
        const auto& ids = rows[r];
        const int64_t T = static_cast<int64_t>(ids.size());
        result.emplace_back("row" + std::to_string(r) + "_full", host(model->forward(ids_tensor(ids, dev), nullptr)[0]));
        if (steps > 0) {
            if (steps + 1 >= T) throw Error("decode_steps must be below the row length - 1");
            auto cache = model->new_cache(4);  // small on purpose: the cache grows while decoding
            const int64_t prefill = T - steps - 1;
            std::vector<int64_t> head(ids.begin(), ids.begin() + prefill);
            model->forward(ids_tensor(head, dev), &cache);
            std::vector<at::Tensor> outs;
            for (int64_t t = prefill; t < T; ++t)
                outs.push_back(model->forward(ids_tensor({ids[t]}, dev), &cache)[0][0]);
            result.emplace_back("row" + std::to_string(r) + "_decode", host(at::stack(outs)));
        }
    }
    if (rows.size() > 1) {
        int64_t Tmax = 0;
        for (const auto& r : rows) Tmax = std::max<int64_t>(Tmax, r.size());
        const int64_t B = static_cast<int64_t>(rows.size());
        auto ids = at::zeros({B, Tmax}, at::kLong);
        auto mask = at::zeros({B, Tmax}, at::kLong);
        auto pos = at::zeros({B, Tmax}, at::kLong);
        for (int64_t b = 0; b < B; ++b) {
            const int64_t n = static_cast<int64_t>(rows[b].size()), pad = Tmax - n;
            for (int64_t t = 0; t < n; ++t) {
                ids[b][pad + t] = rows[b][t];
                mask[b][pad + t] = 1;
                pos[b][pad + t] = t;
            }
        }
        ForwardOptions fo;
        fo.key_mask = mask.to(dev);
        fo.position_ids = pos.to(dev);
        result.emplace_back("batch", host(model->forward(ids.to(dev), nullptr, fo)));
    }
    io::save_safetensors(out, result);
    return 0;
}

int encode(int argc, char** a) {
    const std::string tok_dir = a[2], template_name = a[3], dataset_dir = a[4], dataset = a[5];
    auto tok = load_tokenizer(tok_dir, nullptr);
    const auto& tmpl = ChatTemplate::get(template_name);
    const int64_t cutoff_len = std::stoll(a[6]);
    bool pack = false;
    ThinkingOptions thinking;
    for (int i = 10; i < argc; ++i) {
        const std::string flag = a[i];
        if (flag == "pack") pack = true;
        else if (flag.rfind("enable_thinking=", 0) == 0) thinking.enable_thinking = flag.substr(16) == "true";
        else if (flag.rfind("preserve_thinking=", 0) == 0) thinking.preserve_thinking = flag.substr(18) == "true";
        else throw Error("unknown encode flag " + flag);
    }
    data::SftEncodeOptions eo{pack ? packed_row_length(cutoff_len) : cutoff_len, std::string(a[7]) == "true",
                              std::string(a[8]) == "true", thinking};
    std::vector<data::EncodedExample> rows;
    for (const auto& ex : data::load_datasets(dataset_dir, dataset, 0, nullptr))
        rows.push_back(data::encode_supervised(ex, tmpl, *tok, eo));
    if (pack) rows = pack_examples(rows, eo.cutoff_len);
    std::ofstream out(a[9]);
    for (const auto& e : rows) {
        json line{{"input_ids", e.input_ids}, {"labels", e.labels}};
        if (pack) line["segments"] = e.segments;
        out << line.dump() << "\n";
    }
    return out ? 0 : 1;
}

int greedy(const std::string& spec_path, const std::string& out) {
    const json spec = json::parse(std::ifstream(spec_path));
    std::shared_ptr<const Model> model = Model::load(spec.at("model").get<std::string>(),
                                                     {.dtype = spec.value("dtype", "float32"), .device = spec.value("device", "cpu")});
    const auto prompts = spec.at("prompts").get<std::vector<std::vector<int64_t>>>();
    const int64_t n = spec.at("new_tokens").get<int64_t>();
    GenerationConfig g;
    g.do_sample = false;
    int64_t longest = 0;
    for (const auto& p : prompts) longest = std::max<int64_t>(longest, static_cast<int64_t>(p.size()));
    DecodeContext ctx(model, g, {}, {.slots = static_cast<int64_t>(prompts.size()), .capacity = longest + n + 1,
                                     .cuda_graphs = spec.value("cuda_graphs", true)});
    std::vector<std::vector<int64_t>> ids(prompts.size());
    for (size_t s = 0; s < prompts.size(); ++s) ids[s].push_back(ctx.start(static_cast<int64_t>(s), prompts[s], 0, 1));
    for (int64_t t = 1; t < n; ++t) {
        const auto& step = ctx.step();
        for (size_t s = 0; s < prompts.size(); ++s) ids[s].push_back(step.ids[s]);
    }
    std::ofstream(out) << json(ids).dump();
    return 0;
}

int tokenize(const std::string& tok_dir, const std::string& texts_path, const std::string& out) {
    auto tok = load_tokenizer(tok_dir, nullptr);
    json result = json::array();
    for (const auto& text : json::parse(std::ifstream(texts_path)).get<std::vector<std::string>>()) {
        const auto ids = tok->encode(text);
        result.push_back({{"ids", ids}, {"decoded", tok->decode(ids)}});
    }
    std::ofstream(out) << result.dump(-1, ' ', false, json::error_handler_t::replace);
    return 0;
}

int read_bin(const std::string& path, const std::string& out) {
    io::TorchBinReader reader(path);
    io::NamedTensors result;
    for (const auto& name : reader.names()) {
        const auto& view = reader.tensor(name);
        result.emplace_back(name, io::to_tensor(view, io::scalar_type_of(view.dtype), at::kCPU));
    }
    io::save_safetensors(out, result);
    return 0;
}

int ggml_quantize(const std::string& in, const std::string& out, const std::string& type_name) {
    const auto type = ggml::type_from_name(type_name);
    io::NamedTensors result;
    for (const auto& [name, t] : io::load_safetensors(in)) {
        auto x = t.to(at::kFloat).contiguous();
        const int64_t cols = x.size(-1), rows = x.numel() / cols;
        auto bytes = ggml::quantize(type, x.data_ptr<float>(), rows, cols);
        auto y = at::empty_like(x);
        ggml::dequantize(type, bytes.data(), rows, cols, y.data_ptr<float>());
        result.emplace_back(name + ".bytes", at::from_blob(bytes.data(), {static_cast<int64_t>(bytes.size())}, at::kByte).clone());
        result.emplace_back(name + ".dequantized", y);
    }
    io::save_safetensors(out, result);
    return 0;
}

int nf4(const std::string& in, const std::string& out, bool double_quant) {
    io::NamedTensors result;
    for (const auto& [name, t] : io::load_safetensors(in)) {
        const auto q = quantize_nf4(t, double_quant);
        result.emplace_back(name + ".packed", q.packed.cpu());
        if (double_quant) {
            result.emplace_back(name + ".qabsmax", q.qabsmax.cpu());
            result.emplace_back(name + ".absmax2", q.absmax2.cpu());
            result.emplace_back(name + ".offset", at::tensor({q.offset}));
        } else {
            result.emplace_back(name + ".absmax", q.absmax.cpu());
        }
        result.emplace_back(name + ".dequantized", q.dequantize().to(at::kFloat).cpu());
    }
    io::save_safetensors(out, result);
    return 0;
}

LoraConfig adalora_config(const json& spec) {
    LoraConfig c;
    c.adalora = true;
    c.init_r = spec.value("init_r", int64_t{12});
    c.target_r = spec.value("target_r", int64_t{8});
    c.tinit = spec.value("tinit", int64_t{0});
    c.tfinal = spec.value("tfinal", int64_t{0});
    c.total_step = spec.value("total_step", int64_t{0});
    c.deltaT = spec.value("deltaT", int64_t{1});
    c.beta1 = spec.value("beta1", 0.85);
    c.beta2 = spec.value("beta2", 0.85);
    return c;
}

int adalora(const std::string& spec_path, const std::string& in, const std::string& out) {
    const json spec = json::parse(std::ifstream(spec_path));
    auto model = Model::load(spec.at("model").get<std::string>(), {.dtype = "float32", .device = "cpu"});
    LoraConfig c = adalora_config(spec);
    c.target_modules = resolve_lora_targets(*model, spec.at("targets").get<std::string>());
    attach_adalora(*model, c, 0);
    AdaLoraAllocator allocator(*model, c);
    const auto loaded = io::load_safetensors(in);
    std::map<std::string, at::Tensor> given(loaded.begin(), loaded.end());
    io::NamedTensors result;
    for (int64_t s = 0; s < spec.at("steps").get<int64_t>(); ++s) {
        const std::string step = "s" + std::to_string(s) + ".";
        for (Linear* l : model->linears()) {
            if (!l->lora) continue;
            at::NoGradGuard no_grad;
            for (auto [which, t] : {std::pair<const char*, at::Tensor*>{"lora_A", &l->lora->A}, {"lora_B", &l->lora->B}, {"lora_E", &l->lora->E}}) {
                const std::string key = step + l->name + "." + which;
                t->copy_(given.at(key));
                t->mutable_grad() = given.at(key + ".grad").clone();
            }
        }
        result.emplace_back(step + "orth", allocator.orthogonal_regularization().detach().reshape({1}));
        allocator.update_and_allocate(s);
        result.emplace_back(step + "budget", at::tensor({allocator.budget()}, at::kLong));
        for (Linear* l : model->linears()) {
            if (!l->lora) continue;
            result.emplace_back(step + l->name + ".lora_E", l->lora->E.detach().clone());
            const auto it = allocator.rank_pattern().find(l->name + ".lora_E");
            if (it == allocator.rank_pattern().end()) continue;
            std::vector<uint8_t> bits(it->second.begin(), it->second.end());
            result.emplace_back(step + l->name + ".pattern", at::tensor(bits, at::kByte));
        }
    }
    io::save_safetensors(out, result);
    return 0;
}

int adalora_budget_schedule(char** a) {
    LoraConfig c;
    c.tinit = std::stoll(a[4]);
    c.tfinal = std::stoll(a[5]);
    c.total_step = std::stoll(a[6]);
    c.deltaT = std::stoll(a[7]);
    json steps = json::array();
    for (int64_t s = 0; s <= c.total_step + 1; ++s) {
        const auto [budget, mask] = adalora_budget(s, std::stoll(a[2]), std::stoll(a[3]), c);
        steps.push_back({budget, mask});
    }
    std::cout << steps.dump() << "\n";
    return 0;
}

int similarity(const char* pairs_file, const char* out_file) {
    std::string why;
    const eval::JiebaSegmenter* jieba = eval::JiebaSegmenter::installed(&why);
    if (!jieba) throw Error(why);
    const json pairs = json::parse(io::read_file(pairs_file));
    auto scores = [](double bleu4, const eval::Rouge& r) { return json::array({bleu4, r.rouge1, r.rouge2, r.rougeL}); };
    auto words = [&](const std::string& text) {
        json w = json::array();
        for (const auto& x : jieba->cut(utf8::decode(text))) w.push_back(utf8::encode(x));
        return w;
    };
    json out = json::array();
    for (const auto& p : pairs) {
        const std::string predict = p.at("predict"), label = p.at("label");
        const auto s = eval::similarity(predict, label, jieba);
        out.push_back({{"predict_words", words(predict)},
                       {"label_words", words(label)},
                       {"words", scores(s.bleu4, s.words)},
                       {"characters", scores(s.bleu4, s.characters)}});
    }
    io::write_text_atomically(out_file, out.dump() + "\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string cmd = argc > 1 ? argv[1] : "";
        if (cmd == "forward" && argc == 4) return forward(argv[2], argv[3]);
        if (cmd == "encode" && argc >= 10) return encode(argc, argv);
        if (cmd == "greedy" && argc == 4) return greedy(argv[2], argv[3]);
        if (cmd == "tokenize" && argc == 5) return tokenize(argv[2], argv[3], argv[4]);
        if (cmd == "read-bin" && argc == 4) return read_bin(argv[2], argv[3]);
        if (cmd == "ggml-quantize" && argc == 5) return ggml_quantize(argv[2], argv[3], argv[4]);
        if (cmd == "nf4" && argc == 5) return nf4(argv[2], argv[3], std::string(argv[4]) == "true");
        if (cmd == "adalora" && argc == 5) return adalora(argv[2], argv[3], argv[4]);
        if (cmd == "adalora-budget" && argc == 8) return adalora_budget_schedule(argv);
        if (cmd == "similarity" && argc == 4) return similarity(argv[2], argv[3]);
        std::cerr << "usage: tunebench_probe forward|encode|read-bin|ggml-quantize|nf4|adalora|adalora-budget|similarity ... "
                     "(see probe.cpp)\n";
        return 2;
    } catch (const Error& e) {
        std::cerr << "error: " << one_line(e) << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
