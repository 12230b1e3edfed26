// GGUF export: load the base in fp32, merge the adapters, then write every weight under its
// llama.cpp name (LLaMA's q/k rows permuted to its interleaved RoPE order, FORMATS.md §1.7) in the
// chosen ggml type, with the architecture keys and the tokenizer that llama.cpp's loader reads.
#include "export/gguf_export.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <regex>
#include <tuple>

#include "adapters/lora_adapter.h"
#include "core/error.h"
#include "core/log.h"
#include "core/string_list.h"
#include "export/ggml_quants.h"
#include "export/ollama_modelfile.h"
#include "io/atomic_file.h"
#include "io/gguf_reader.h"
#include "io/gguf_writer.h"
#include "io/json_text.h"
#include "model/decoder.h"
#include "model/gguf_layout.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/sentencepiece_tokenizer.h"
#include "tokenizer/spm_library.h"
#include "tokenizer/tokenizer.h"

namespace tb {
namespace fs = std::filesystem;

namespace {

// W.reshape(heads, 2, rows/heads/2, …).swapaxes(1, 2): row h·hd + 2i + j ← h·hd + j·hd/2 + i
at::Tensor permute_rows(const at::Tensor& w, int64_t heads) {
    auto shape = w.sizes().vec();
    std::vector<int64_t> split = {heads, 2, w.size(0) / heads / 2};
    split.insert(split.end(), shape.begin() + 1, shape.end());
    return w.reshape(split).transpose(1, 2).reshape(shape).contiguous();
}

// llama-quantize's use_more_bits: the first and last eighth of the layers and every third between
bool use_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// llama-quantize's type for a tensor of a Q4_K_M file (FORMATS.md §2.9, llama_tensor_get_type, as
// the llama.cpp of llama-cpp-python 0.3.16 — CI's oracle — decides it): Q4_K; Q6_K for the output
// (or the tied token_embd) and, on the layers use_more_bits picks, for attn_v and ffn_down; Q5_K
// for ChatGLM's fused attn_qkv (that version's own branch; later llama.cpp treats it as attn_v);
// rows that are not whole 256-blocks fall back to Q5_0 (Q4_K), Q5_1 (Q5_K) or Q8_0 (Q6_K), then F16.
ggml::Type q4_k_m_type(const std::string& name, int64_t cols, bool output, int64_t layers) {
    ggml::Type t = ggml::Type::Q4_K;
    const auto dot = name.find('.', 4);
    const int64_t layer = name.rfind("blk.", 0) == 0 ? std::stoll(name.substr(4, dot - 4)) : -1;
    if (output) {
        t = ggml::Type::Q6_K;
    } else if (name.find(".attn_qkv.") != std::string::npos) {
        t = ggml::Type::Q5_K;
    } else if ((name.find(".attn_v.") != std::string::npos || name.find(".ffn_down.") != std::string::npos) &&
               use_more_bits(layer, layers)) {
        t = ggml::Type::Q6_K;
    }
    if (cols % 256 != 0) {
        t = t == ggml::Type::Q6_K ? ggml::Type::Q8_0 : t == ggml::Type::Q5_K ? ggml::Type::Q5_1 : ggml::Type::Q5_0;
    }
    if (cols % 32 != 0) t = ggml::Type::F16;
    return t;
}

uint32_t file_type(ggml::Type t) {  // llama.cpp's LlamaFileType (FORMATS.md §2.9)
    switch (t) {
        case ggml::Type::F32: return 0;
        case ggml::Type::F16: return 1;
        case ggml::Type::Q4_0: return 2;
        case ggml::Type::Q8_0: return 7;
        case ggml::Type::BF16: return 32;
        default: throw Error(std::string("no GGUF file type for ") + ggml::traits(t).name);
    }
}

nlohmann::json read_json_if_present(const fs::path& p) {
    if (!fs::exists(p)) return nlohmann::json::object();
    return io::parse_ordered_json(io::read_file(p), p.string());
}

// The SentencePiece type of a piece as llama.cpp numbers them: 1 normal, 2 unknown, 3 control,
// 5 unused, 6 byte.
int32_t piece_type(const spm::Processor& sp, int id) {
    return sp.is_unknown(id) ? 2 : sp.is_control(id) ? 3 : sp.is_unused(id) ? 5 : sp.is_byte(id) ? 6 : 1;
}

void add_spm_vocab(io::GgufWriter& w, const std::string& pre, const std::vector<std::string>& tokens,
                   const std::vector<float>& scores, const std::vector<int32_t>& types) {
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_string("tokenizer.ggml.pre", pre);
    w.add_strings("tokenizer.ggml.tokens", tokens);
    w.add_f32s("tokenizer.ggml.scores", scores);
    w.add_i32s("tokenizer.ggml.token_type", types);
}

// ChatGLM2/3: the SentencePiece pieces (0, 1, 2 named <unk> <bos> <eos>), then the specials as
// control tokens, then [PAD…] up to padded_vocab_size, as convert_hf_to_gguf.py's
// set_vocab_chatglm3 writes them (for ChatGLM2 too: its converter has no path of its own, §1.11).
void add_chatglm_vocab(io::GgufWriter& w, const fs::path& base, const ModelConfig& c) {
    spm::Processor sp(base / "tokenizer.model");
    const auto tok = load_tokenizer(base, &c);
    const int64_t pieces = sp.piece_size(), specials = tok->vocab_size() - pieces;
    const auto& names = SentencePieceTokenizer::chatglm_specials();
    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<int32_t> types;
    for (int64_t i = 0; i < std::max(c.vocab_size, tok->vocab_size()); ++i) {
        const int id = static_cast<int>(i);
        if (i >= pieces) {
            const bool special = i - pieces < specials;
            tokens.push_back(special ? names[static_cast<size_t>(i - pieces)] : "[PAD" + std::to_string(i) + "]");
            scores.push_back(0.0f);
            types.push_back(special ? 3 : 5);
            continue;
        }
        tokens.push_back(i == 0 ? "<unk>" : i == 1 ? "<bos>" : i == 2 ? "<eos>" : sp.id_to_piece(id));
        scores.push_back(sp.score(id));
        types.push_back(piece_type(sp, id));
    }
    add_spm_vocab(w, "chatglm-spm", tokens, scores, types);
    if (!c.eos_token_ids.empty()) w.add_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(c.eos_token_ids[0]));
    if (c.pad_token_id) w.add_u32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(*c.pad_token_id));
    w.add_bool("tokenizer.ggml.add_bos_token", false);  // the prompt carries [gMASK] sop itself
    if (specials >= 9) {
        // generation ends where the next user turn would begin; llama.cpp recognises a template
        // with "[gMASK]sop" as ChatGLM3's (THUDM's later tokenizer_config.json template)
        w.add_u32("tokenizer.ggml.eot_token_id", static_cast<uint32_t>(*tok->token_to_id("<|user|>")));
        w.add_string("tokenizer.chat_template",
                     "{% for message in messages %}{% if loop.first %}[gMASK]sop<|{{ message['role'] }}|>\n {{ message['content'] }}"
                     "{% else %}<|{{ message['role'] }}|>\n {{ message['content'] }}{% endif %}{% endfor %}"
                     "{% if add_generation_prompt %}<|assistant|>{% endif %}");
    }
}

// The architecture keys llama.cpp's `chatglm` loader reads (ChatGLMModel.set_gguf_parameters).
void add_chatglm_keys(io::GgufWriter& w, const ModelConfig& c) {
    w.add_string("general.architecture", "chatglm");
    w.add_u32("chatglm.context_length", static_cast<uint32_t>(c.max_position_embeddings));
    w.add_u32("chatglm.embedding_length", static_cast<uint32_t>(c.hidden_size));
    w.add_u32("chatglm.feed_forward_length", static_cast<uint32_t>(c.intermediate_size));
    w.add_u32("chatglm.block_count", static_cast<uint32_t>(c.num_hidden_layers));
    w.add_u32("chatglm.attention.head_count", static_cast<uint32_t>(c.num_attention_heads));
    w.add_u32("chatglm.attention.head_count_kv", static_cast<uint32_t>(c.num_key_value_heads));
    w.add_f32("chatglm.attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
    w.add_u32("chatglm.rope.dimension_count", static_cast<uint32_t>(c.rotary_dim()));
    w.add_f32("chatglm.rope.freq_base", static_cast<float>(c.rope_theta));  // ChatGLM: 10000 × rope_ratio
}

// The architecture keys llama.cpp's `llama` and `qwen2` loaders read (TextModel's generic keys,
// plus LlamaModel's vocab_size and rope.dimension_count; FORMATS.md §1.6).
void add_arch_keys(io::GgufWriter& w, const std::string& arch, const ModelConfig& c) {
    w.add_u32(arch + ".context_length", static_cast<uint32_t>(c.max_position_embeddings));
    w.add_u32(arch + ".embedding_length", static_cast<uint32_t>(c.hidden_size));
    w.add_u32(arch + ".block_count", static_cast<uint32_t>(c.num_hidden_layers));
    w.add_u32(arch + ".feed_forward_length", static_cast<uint32_t>(c.intermediate_size));
    w.add_u32(arch + ".attention.head_count", static_cast<uint32_t>(c.num_attention_heads));
    w.add_u32(arch + ".attention.head_count_kv", static_cast<uint32_t>(c.num_key_value_heads));
    w.add_u32(arch + ".attention.key_length", static_cast<uint32_t>(c.head_dim));
    w.add_u32(arch + ".attention.value_length", static_cast<uint32_t>(c.head_dim));
    w.add_f32(arch + ".rope.freq_base", static_cast<float>(c.rope_theta));
    w.add_f32(arch + ".attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
    if (c.arch == Arch::Llama) {
        w.add_u32(arch + ".rope.dimension_count", static_cast<uint32_t>(c.head_dim));
        w.add_u32(arch + ".vocab_size", static_cast<uint32_t>(c.vocab_size));
    }
    if (c.rope_scaling.type == "linear") {
        w.add_string(arch + ".rope.scaling.type", "linear");
        w.add_f32(arch + ".rope.scaling.factor", static_cast<float>(c.rope_scaling.factor));
    } else if (!c.rope_scaling.type.empty() && !(c.rope_scaling.type == "llama3" && c.arch == Arch::Llama)) {
        throw UnsupportedError("GGUF export of rope_scaling " + c.rope_scaling.type + " for " + arch + " is not built",
                               "export_format safetensors writes the merged model");
    }
}

// LLaMA-3.1's rope_type llama3 as llama.cpp takes it: a `rope_freqs` tensor of per-frequency
// divisors (LlamaModel.generate_extra_tensors): 1 for short wavelengths, `factor` for long ones,
// a smooth blend between.
std::vector<float> llama3_rope_factors(const ModelConfig& c) {
    const auto& s = c.rope_scaling;
    const double low_wavelen = s.original_max_position_embeddings / s.low_freq_factor;
    const double high_wavelen = s.original_max_position_embeddings / s.high_freq_factor;
    std::vector<float> factors;
    for (int64_t i = 0; i < c.head_dim; i += 2) {
        const double freq = 1.0 / std::pow(c.rope_theta, static_cast<double>(i) / static_cast<double>(c.head_dim));
        const double wavelen = 2 * M_PI / freq;
        if (wavelen < high_wavelen) {
            factors.push_back(1.0f);
        } else if (wavelen > low_wavelen) {
            factors.push_back(static_cast<float>(s.factor));
        } else {
            const double smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) /
                                  (s.high_freq_factor - s.low_freq_factor);
            factors.push_back(static_cast<float>(1.0 / ((1 - smooth) / s.factor + smooth)));
        }
    }
    return factors;
}

// SentencePiece vocabulary as convert_hf_to_gguf.py's _set_vocab_sentencepiece writes it.
void add_sentencepiece_vocab(io::GgufWriter& w, const fs::path& base, const ModelConfig& c) {
    spm::Processor sp(base / "tokenizer.model");
    const int64_t n = std::max<int64_t>(c.vocab_size, sp.piece_size());
    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<int32_t> types;  // 1 normal, 2 unknown, 3 control, 5 unused, 6 byte
    for (int64_t i = 0; i < n; ++i) {
        if (i >= sp.piece_size()) {  // the embedding's padding rows
            tokens.push_back("[PAD" + std::to_string(i) + "]");
            scores.push_back(-1000.0f);
            types.push_back(5);
            continue;
        }
        const int id = static_cast<int>(i);
        tokens.push_back(sp.id_to_piece(id));
        scores.push_back(sp.score(id));
        types.push_back(piece_type(sp, id));
    }
    add_spm_vocab(w, "default", tokens, scores, types);
    const auto tc = read_json_if_present(base / "tokenizer_config.json");
    const int64_t bos = c.bos_token_id.value_or(sp.bos_id()), eos = c.eos_token_ids.empty() ? sp.eos_id() : c.eos_token_ids[0];
    if (bos >= 0) w.add_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(bos));
    if (eos >= 0) w.add_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(eos));
    if (sp.unk_id() >= 0) w.add_u32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(sp.unk_id()));
    if (c.pad_token_id) w.add_u32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(*c.pad_token_id));
    w.add_bool("tokenizer.ggml.add_bos_token", tc.value("add_bos_token", true));
    w.add_bool("tokenizer.ggml.add_eos_token", tc.value("add_eos_token", false));
    if (tc.contains("chat_template") && tc["chat_template"].is_string())
        w.add_string("tokenizer.chat_template", tc["chat_template"].get<std::string>());
}

// llama.cpp's name for a byte-level BPE pre-tokenizer (its `tokenizer.ggml.pre`), known by the
// split regex and ignore_merges (tokenizer/gguf_vocab.h): the converter finds it by hashing the
// tokenizer's output, llama.cpp then applies its own copy of the regex, so an unknown one must not
// be written under another's name. The converter's hash names today's Meta LLaMA-3 tokenizer.json
// (ignore_merges) smaug-bpe, under which llama.cpp tokenizes its test vectors differently from
// it; llama-bpe, which skips the merges as the file asks, tokenizes them alike.
std::string bpe_pre_name(const BpeTokenizer& tok, const fs::path& base) {
    for (const auto& p : gguf_pre_tokenizers())
        if (p.regex == tok.pattern() && p.ignore_merges == tok.ignore_merges()) return p.name;
    throw UnsupportedError("GGUF export: the pre-tokenizer of " + base.string() + " is not one llama.cpp knows by name",
                           "GGUF export writes Qwen2/Qwen3 and LLaMA-3 byte-level vocabularies; export_format safetensors "
                           "writes any model");
}

// convert_hf_to_gguf.py's does_token_look_special
bool looks_special(const std::string& t) {
    const auto ends = [&](const std::string& s) { return t.size() >= s.size() && t.compare(t.size() - s.size(), s.size(), s) == 0; };
    return t == "<pad>" || t == "<mask>" || (t.rfind("<|", 0) == 0 && ends("|>"));
}

// Byte-level BPE (Qwen2/Qwen3, LLaMA-3) as _set_vocab_gpt2 writes it: the tokens in their
// byte-level form, added tokens CONTROL when special (or <|…|>-looking) else USER_DEFINED, holes
// up to the embedding's rows [PAD{i}] UNUSED, the merges by rank; no scores.
void add_bpe_vocab(io::GgufWriter& w, const BpeTokenizer& tok, const fs::path& base, const ModelConfig& c) {
    const auto& have = tok.tokens();
    const int64_t n = std::max<int64_t>(c.vocab_size, static_cast<int64_t>(have.size()));
    std::vector<std::string> tokens;
    std::vector<int32_t> types;
    for (int64_t i = 0; i < n; ++i) {
        const std::string t = i < static_cast<int64_t>(have.size()) ? have[static_cast<size_t>(i)] : std::string();
        if (t.empty()) {
            tokens.push_back("[PAD" + std::to_string(i) + "]");
            types.push_back(5);
        } else {
            tokens.push_back(t);
            types.push_back(!tok.is_added(i) ? 1 : tok.is_special(i) || looks_special(t) ? 3 : 4);
        }
    }
    w.add_string("tokenizer.ggml.model", "gpt2");
    w.add_string("tokenizer.ggml.pre", bpe_pre_name(tok, base));
    w.add_strings("tokenizer.ggml.tokens", tokens);
    w.add_i32s("tokenizer.ggml.token_type", types);
    w.add_strings("tokenizer.ggml.merges", tok.merges());
    // ids as SpecialVocab finds them: tokenizer_config.json's tokens, else config.json's ids
    const auto bos = tok.bos_id ? tok.bos_id : c.bos_token_id;
    auto eos = tok.eos_id;
    if (!eos && !c.eos_token_ids.empty()) eos = c.eos_token_ids[0];
    const auto pad = tok.pad_id ? tok.pad_id : c.pad_token_id;
    if (bos) w.add_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(*bos));
    if (eos) w.add_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(*eos));
    if (pad) w.add_u32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(*pad));
    w.add_bool("tokenizer.ggml.add_bos_token", tok.add_bos);
    const auto tc = read_json_if_present(base / "tokenizer_config.json");
    if (tc.contains("chat_template") && tc["chat_template"].is_string())
        w.add_string("tokenizer.chat_template", tc["chat_template"].get<std::string>());
}

// generation_config.json's sampling defaults: as general.sampling.* keys (gguf-py's Metadata, which
// newer llama.cpp reads) and as Ollama PARAMETER lines (which Ollama reads).
std::vector<std::pair<std::string, std::string>> add_sampling_keys(io::GgufWriter& w, const fs::path& base) {
    const auto g = read_json_if_present(base / "generation_config.json");
    std::vector<std::pair<std::string, std::string>> ollama;
    auto number = [&](const char* key) { return g.contains(key) && g[key].is_number() ? std::optional(g[key].get<double>()) : std::nullopt; };
    if (const auto k = number("top_k"); k && *k == std::floor(*k)) {
        w.add_i32("general.sampling.top_k", static_cast<int32_t>(*k));
        ollama.emplace_back("top_k", std::to_string(static_cast<int32_t>(*k)));
    }
    for (const auto& [hf, gguf, param] : std::vector<std::tuple<const char*, const char*, const char*>>{
             {"top_p", "general.sampling.top_p", "top_p"},
             {"min_p", "general.sampling.min_p", "min_p"},
             {"temperature", "general.sampling.temp", "temperature"}}) {
        if (const auto v = number(hf)) {
            w.add_f32(gguf, static_cast<float>(*v));
            ollama.emplace_back(param, io::dump_json(nlohmann::json(*v)));
        }
    }
    if (const auto v = number("repetition_penalty")) ollama.emplace_back("repeat_penalty", io::dump_json(nlohmann::json(*v)));
    return ollama;
}

}  // namespace

GgufExportReport export_gguf(const ExportArgs& a, const std::function<void(const std::string&)>& status) {
    auto say = [&](const std::string& s) {
        log::info(s);
        if (status) status(s);
    };
    const fs::path base = a.model_name_or_path, out = a.export_dir;
    refuse_quantized_base(base);
    if (!fs::is_directory(base)) throw FileError("model folder " + base.string() + " does not exist");
    const bool q4_k_m = a.export_gguf_type == "Q4_K_M";  // a mixture, chosen per tensor
    const auto type = q4_k_m ? ggml::Type::Q4_K : ggml::type_from_name(a.export_gguf_type);
    const auto config = ModelConfig::from_folder(base);
    if (config.arch == Arch::ChatGLM6B)  // FORMATS.md §1.11: llama.cpp's converter has no ChatGLM-6B
        throw UnsupportedError("GGUF export of ChatGLM-6B (the first generation) is not possible: llama.cpp has no such "
                               "architecture (no loader for its 2-D positions and prefix attention)",
                               "export_format safetensors writes the merged model for transformers");
    const auto tokenizer = load_tokenizer(base, &config);
    const auto* bpe = dynamic_cast<const BpeTokenizer*>(tokenizer.get());
    if (bpe) bpe_pre_name(*bpe, base);  // refused before anything is loaded
    check_export_dir(out, base, split_comma_list(a.adapter_name_or_path));
    at::NoGradGuard no_grad;
    say("loading " + base.string());
    auto model = Model::load(base, {.dtype = "float32", .device = "cpu"});  // quantized from fp32, as the converter does
    GgufExportReport r;
    for (const auto& one : split_comma_list(a.adapter_name_or_path)) {
        say("merging " + one);
        r.merged_modules += merge_lora_adapter(*model, one).merged_modules;
    }
    const auto& c = model->config();
    io::GgufWriter w;
    const bool chatglm = c.arch == Arch::ChatGLM;
    // GLM-4: transformers' glm as llama.cpp's chatglm (q/k/v apart), glm4 as its glm4 (FORMATS.md §1.6)
    const bool chatglm_keys = chatglm || (c.arch == Arch::Glm && !c.sandwich_norms);
    const std::string arch = chatglm_keys ? "chatglm"
                             : c.arch == Arch::Glm   ? "glm4"
                             : c.arch == Arch::Qwen2 ? "qwen2"
                             : c.arch == Arch::Qwen3 ? "qwen3"
                                                     : "llama";
    if (chatglm_keys) add_chatglm_keys(w, c);
    else w.add_string("general.architecture", arch);
    w.add_string("general.name", base.filename().string());
    const auto sampling = add_sampling_keys(w, base);
    w.add_u32("general.file_type", q4_k_m ? 15 : file_type(type));
    if (!chatglm_keys) add_arch_keys(w, arch, c);
    if (arch == "glm4") w.add_u32("glm4.rope.dimension_count", static_cast<uint32_t>(c.rotary_dim()));
    if (c.rope_scaling.type == "llama3") {
        const auto factors = llama3_rope_factors(c);
        w.add_tensor("rope_freqs.weight", {static_cast<int64_t>(factors.size())}, static_cast<uint32_t>(ggml::Type::F32),
                     factors.size() * sizeof(float),
                     [factors] { return ggml::quantize(ggml::Type::F32, factors.data(), 1, static_cast<int64_t>(factors.size())); });
        ++r.tensors;
    }
    bool quantized = false;
    const auto named = model->named_weights();
    const bool tied = std::none_of(named.begin(), named.end(), [&](const auto& n) {
        const auto m = gguf_tensor_name(n.first, c);
        return m && m->name == "output.weight";
    });
    for (auto& [hf, tensor] : named) {
        const auto mapped = gguf_tensor_name(hf, c);
        if (!mapped) throw Error("no GGUF name for tensor " + hf);
        at::Tensor t = *tensor;
        if (mapped->permute) t = permute_rows(t, mapped->heads);
        // norms, biases and vectors stay F32; rows that are not whole blocks fall back to F16
        ggml::Type tt = type;
        if (t.dim() < 2 || hf.find("norm") != std::string::npos || hf.size() < 7 || hf.substr(hf.size() - 7) != ".weight")
            tt = ggml::Type::F32;
        else if (q4_k_m)
            tt = q4_k_m_type(mapped->name, t.size(-1),
                             mapped->name == "output.weight" || (tied && mapped->name == "token_embd.weight"), c.num_hidden_layers);
        else if (t.size(-1) % ggml::traits(tt).block != 0)
            tt = ggml::Type::F16;
        quantized = quantized || ggml::traits(tt).block > 1;
        const int64_t cols = t.size(-1), rows = t.numel() / cols;
        const uint64_t nbytes = ggml::row_bytes(tt, cols) * static_cast<uint64_t>(rows);
        w.add_tensor(mapped->name, t.sizes().vec(), static_cast<uint32_t>(tt), nbytes, [t, tt, rows, cols] {
            auto f = t.to(at::kFloat).contiguous();
            return ggml::quantize(tt, f.data_ptr<float>(), rows, cols);
        });
        ++r.tensors;
        r.bytes += static_cast<int64_t>(nbytes);
    }
    if (quantized) w.add_u32("general.quantization_version", 2);
    if (chatglm && !bpe) add_chatglm_vocab(w, base, c);  // ChatGLM2/3; GLM-4's remote code has a byte-level vocabulary
    else if (bpe) add_bpe_vocab(w, *bpe, base, c);
    else add_sentencepiece_vocab(w, base, c);
    r.type = q4_k_m ? "Q4_K_M" : ggml::traits(type).name;
    const std::string file = base.filename().string() + "-" + r.type + ".gguf";
    // Ollama's Modelfile: the template Tunebench trains and chats with; BOS left to the runtime
    // where the file asks it to add one (as add_bos_token was written above)
    const auto template_name = detect_template(base, c, *tokenizer);
    const bool runtime_adds_bos = !chatglm && (bpe ? bpe->add_bos : read_json_if_present(base / "tokenizer_config.json").value("add_bos_token", true));
    const std::string modelfile =
        ollama_modelfile(file, ChatTemplate::get(template_name.empty() ? "empty" : template_name), *tokenizer, runtime_adds_bos, sampling);
    write_export_folder(out, [&](const fs::path& tmp) {
        say("writing " + (out / file).string());
        w.write(tmp / file);
        io::write_text_atomically(tmp / "Modelfile", modelfile);
    });
    r.file = out / file;
    say("exported " + r.file.string() + ": " + std::to_string(r.tensors) + " tensors, " + std::to_string(r.bytes / 1000000) +
        " MB of tensor data, " + r.type);
    return r;
}

ExportCheck verify_gguf_export(const ExportArgs& a, const fs::path& file, const std::vector<std::string>& prompts) {
    at::NoGradGuard no_grad;
    const fs::path base = a.model_name_or_path;
    auto reference = Model::load(base, {.dtype = "float32", .device = "cpu"});
    for (const auto& one : split_comma_list(a.adapter_name_or_path)) merge_lora_adapter(*reference, one);
    // the file read back as chat and prediction read it (model/gguf_layout.h): dequantized, LLaMA's permutation undone
    auto held = Model::load(file, {.dtype = "float32", .device = "cpu"});
    const auto& c = held->config();
    io::GgufReader reader(file);
    ggml::Type kind = ggml::Type::F32;  // the file's main type: the most common one among its matrices
    std::map<uint32_t, int> counts;
    for (const auto& t : reader.tensors())
        if (t.shape.size() == 2) ++counts[t.type];
    for (const auto& [type, n] : counts)
        if (n > counts[static_cast<uint32_t>(kind)]) kind = static_cast<ggml::Type>(type);
    auto tok = load_tokenizer(base, &c);
    const auto name = detect_template(base, c, *tok);
    const auto& tmpl = ChatTemplate::get(name.empty() ? "empty" : name);
    ExportCheck check;
    int64_t same = 0, positions = 0;
    double diff2 = 0, ref2 = 0;
    for (const auto& p : prompts) {
        auto ids = encode_prompt(tmpl, *tok, {}, p, "");
        if (ids.empty()) continue;
        auto input = at::tensor(ids).unsqueeze(0);
        auto x = held->forward(input, nullptr), y = reference->forward(input, nullptr);
        check.max_abs_diff = std::max(check.max_abs_diff, (x - y).abs().max().item<double>());
        check.logit_scale = std::max(check.logit_scale, y.abs().max().item<double>());
        same += x.argmax(-1).eq(y.argmax(-1)).sum().item<int64_t>();
        diff2 += (x - y).to(at::kDouble).pow(2).sum().item<double>();
        ref2 += y.to(at::kDouble).pow(2).sum().item<double>();
        positions += static_cast<int64_t>(ids.size());
        ++check.prompts;
    }
    check.greedy_agreement = positions ? static_cast<double>(same) / static_cast<double>(positions) : 0;
    check.relative_rms = ref2 > 0 ? std::sqrt(diff2 / ref2) : 0;
    // the vocabulary in the file tokenizes the prompts as the base model's tokenizer does
    bool same_tokens = true;
    const auto own = load_tokenizer(file, &c);
    for (const auto& p : prompts) same_tokens = same_tokens && encode_prompt(tmpl, *own, {}, p, "") == encode_prompt(tmpl, *tok, {}, p, "");
    if (!same_tokens) log::warn("the GGUF's vocabulary tokenizes the check prompts differently from ", base.string());
    const bool exact = kind == ggml::Type::F32 || kind == ggml::Type::F16 || kind == ggml::Type::BF16;
    if (exact) {  // the largest logit difference, as the merge export's check
        check.tolerance = (kind == ggml::Type::F32 ? 1e-4 : 2e-2) * check.logit_scale;
        check.ok = check.max_abs_diff <= check.tolerance && check.greedy_agreement >= (kind == ggml::Type::F32 ? 1.0 : 0.95);
    } else {  // quantized: the logits' relative RMS error; the greedy agreement is reported
        check.tolerance = kind == ggml::Type::Q8_0 ? 0.1 : 0.5;  // a misread file scores about 1 or more
        check.ok = check.relative_rms <= check.tolerance;
    }
    check.ok = check.ok && same_tokens && check.prompts > 0 && std::isfinite(check.max_abs_diff);
    return check;
}

}  // namespace tb
