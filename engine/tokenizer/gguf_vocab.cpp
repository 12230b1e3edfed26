#include "tokenizer/gguf_vocab.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/gguf_reader.h"
#include "io/json_text.h"

namespace tb {
namespace fs = std::filesystem;

const std::vector<GgufPreTokenizer>& gguf_pre_tokenizers() {
    static const std::string qwen2 =
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    static const std::string llama3 =
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    // llama-bpe and smaug-bpe split alike; llama.cpp skips the merges of a whole-word token only for the first
    static const std::vector<GgufPreTokenizer> known = {{"qwen2", qwen2, false}, {"llama-bpe", llama3, true}, {"smaug-bpe", llama3, false}};
    return known;
}

namespace {

// Protocol-buffer wire format, for the few fields of sentencepiece_model.proto a model needs.
class Proto {
public:
    void varint(int field, uint64_t v) {
        key(field, 0);
        raw_varint(v);
    }
    void f32(int field, float v) {
        key(field, 5);
        char b[4];
        std::memcpy(b, &v, 4);
        bytes_.append(b, 4);
    }
    void str(int field, const std::string& s) {
        key(field, 2);
        raw_varint(s.size());
        bytes_ += s;
    }
    void msg(int field, const Proto& m) { str(field, m.bytes_); }
    const std::string& bytes() const { return bytes_; }

private:
    void key(int field, int wire) { raw_varint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire)); }
    void raw_varint(uint64_t v) {
        while (v >= 0x80) {
            bytes_ += static_cast<char>(v | 0x80);
            v >>= 7;
        }
        bytes_ += static_cast<char>(v);
    }
    std::string bytes_;
};

std::vector<int> ints(const std::vector<std::string>& v) {
    std::vector<int> out;
    for (const auto& s : v) out.push_back(std::stoi(s));
    return out;
}

// ChatGLM's tokens after its SentencePiece pieces (FORMATS.md §1.10, set_vocab_chatglm3)
bool chatglm_special(const std::string& t) {
    static const std::vector<std::string> s = {"[MASK]", "[gMASK]", "[sMASK]", "sop", "eop", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"};
    return std::find(s.begin(), s.end(), t) != s.end();
}

}  // namespace

void write_gguf_vocab(const io::GgufReader& r, const fs::path& gguf, const fs::path& folder) {
    const std::string kind = r.value("tokenizer.ggml.model"), where = gguf.string();
    const auto* tokens = r.array("tokenizer.ggml.tokens");
    const auto* type_text = r.array("tokenizer.ggml.token_type");
    if (!tokens || !type_text || tokens->size() != type_text->size())
        throw FileError(where + ": tokenizer.ggml.tokens and token_type are missing or of different lengths", "export the GGUF again");
    const auto types = ints(*type_text);
    auto id = [&](const char* key) -> int {
        const auto v = r.value(std::string("tokenizer.ggml.") + key);
        const int i = v.empty() ? -1 : std::stoi(v);
        return i >= 0 && i < static_cast<int>(tokens->size()) ? i : -1;
    };
    const int bos = id("bos_token_id"), eos = id("eos_token_id"), pad = id("padding_token_id");
    nlohmann::ordered_json config = nlohmann::ordered_json::object();
    const std::string add_bos = r.value("tokenizer.ggml.add_bos_token");
    const bool chatglm = r.value("general.architecture") == "chatglm";
    if (kind == "llama") {
        const auto* scores = r.array("tokenizer.ggml.scores");
        if (!scores || scores->size() != tokens->size()) throw FileError(where + ": tokenizer.ggml.scores is missing", "export the GGUF again");
        size_t pieces = tokens->size();  // ChatGLM: its specials follow the SentencePiece pieces
        if (chatglm)
            for (size_t i = 0; i < tokens->size(); ++i)
                if (chatglm_special((*tokens)[i])) {
                    pieces = i;
                    break;
                }
        Proto model, trainer, normalizer;
        int unk = id("unknown_token_id");
        bool byte_fallback = false;
        for (size_t i = 0; i < pieces; ++i) {
            Proto p;
            p.str(1, (*tokens)[i]);
            p.f32(2, std::stof((*scores)[i]));
            p.varint(3, static_cast<uint64_t>(types[i]));
            model.msg(1, p);
            if (types[i] == 2 && unk < 0) unk = static_cast<int>(i);
            byte_fallback = byte_fallback || types[i] == 6;
        }
        if (unk < 0) throw FileError(where + ": the SentencePiece vocabulary has no unknown token", "export the GGUF again");
        trainer.varint(3, 2);  // BPE: llama.cpp merges by score, as SentencePiece's BPE does
        trainer.varint(26, 1);  // allow_whitespace_only_pieces
        trainer.varint(35, byte_fallback ? 1 : 0);
        trainer.varint(40, static_cast<uint64_t>(unk));
        trainer.varint(41, static_cast<uint64_t>(static_cast<int64_t>(bos >= 0 && static_cast<size_t>(bos) < pieces ? bos : -1)));
        trainer.varint(42, static_cast<uint64_t>(static_cast<int64_t>(eos >= 0 && static_cast<size_t>(eos) < pieces ? eos : -1)));
        trainer.varint(43, static_cast<uint64_t>(int64_t{-1}));
        trainer.str(45, (*tokens)[static_cast<size_t>(unk)]);
        if (bos >= 0 && static_cast<size_t>(bos) < pieces) trainer.str(46, (*tokens)[static_cast<size_t>(bos)]);
        if (eos >= 0 && static_cast<size_t>(eos) < pieces) trainer.str(47, (*tokens)[static_cast<size_t>(eos)]);
        normalizer.str(1, "identity");
        normalizer.varint(3, r.value("tokenizer.ggml.add_space_prefix") == "false" ? 0 : 1);
        normalizer.varint(4, 0);  // remove_extra_whitespaces: llama.cpp keeps every space
        normalizer.varint(5, 1);
        model.msg(2, trainer);
        model.msg(3, normalizer);
        io::write_text_atomically(folder / "tokenizer.model", model.bytes());
        if (chatglm) config["tokenizer_class"] = "ChatGLMTokenizer";
        else config["add_bos_token"] = add_bos != "false";
    } else if (kind == "gpt2") {
        const std::string pre = r.value("tokenizer.ggml.pre");
        const auto& known = gguf_pre_tokenizers();
        const auto p = std::find_if(known.begin(), known.end(), [&](const auto& k) { return k.name == pre; });
        if (p == known.end()) {
            throw UnsupportedError(where + ": byte-level pre-tokenizer '" + pre + "' is not one Tunebench reads",
                                   "Tunebench reads GGUF vocabularies of Qwen2/Qwen3 (qwen2) and LLaMA-3 (llama-bpe, smaug-bpe)");
        }
        const auto* merges = r.array("tokenizer.ggml.merges");
        if (!merges) throw FileError(where + ": tokenizer.ggml.merges is missing", "export the GGUF again");
        // (json, not ordered_json: the ordered one finds a key by a linear search, quadratic for 150k tokens)
        nlohmann::json vocab = nlohmann::json::object(), added = nlohmann::json::array();
        for (size_t i = 0; i < tokens->size(); ++i) {
            if (types[i] == 5) continue;  // [PAD…] rows of the embedding
            if (types[i] == 3 || types[i] == 4)
                added.push_back({{"id", i}, {"content", (*tokens)[i]}, {"special", types[i] == 3}});
            else
                vocab[(*tokens)[i]] = i;
        }
        nlohmann::json j = {
            {"added_tokens", added},
            {"normalizer", pre == "qwen2" ? nlohmann::json{{"type", "NFC"}} : nlohmann::json()},
            {"pre_tokenizer",
             {{"type", "Sequence"},
              {"pretokenizers",
               {{{"type", "Split"}, {"pattern", {{"Regex", p->regex}}}, {"behavior", "Isolated"}, {"invert", false}},
                {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}}},
            {"model", {{"type", "BPE"}, {"ignore_merges", p->ignore_merges}, {"vocab", vocab}, {"merges", *merges}}}};
        io::write_text_atomically(folder / "tokenizer.json", j.dump());
        config["add_bos_token"] = add_bos == "true";
    } else {
        throw UnsupportedError(where + ": tokenizer.ggml.model '" + kind + "' is not one Tunebench reads",
                               "Tunebench reads SentencePiece (llama) and byte-level BPE (gpt2) GGUF vocabularies");
    }
    if (bos >= 0) config["bos_token"] = (*tokens)[static_cast<size_t>(bos)];
    if (eos >= 0) config["eos_token"] = (*tokens)[static_cast<size_t>(eos)];
    if (pad >= 0) config["pad_token"] = (*tokens)[static_cast<size_t>(pad)];
    if (const auto t = r.value("tokenizer.chat_template"); !t.empty()) config["chat_template"] = t;
    io::write_text_atomically(folder / "tokenizer_config.json", config.dump(2));
}

}  // namespace tb
