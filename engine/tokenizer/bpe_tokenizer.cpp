// Byte-level BPE. Reference behaviour: HF tokenizers' BPE model with ByteLevel pre-tokenizer /
// decoder; verified against llama.cpp's 46 test vectors for Qwen2/Qwen3/LLaMA-3.
#include "tokenizer/bpe_tokenizer.h"
#include "io/json_text.h"

#ifndef TB_WITH_BPE
#include "core/error.h"
namespace tb {
struct BpeTokenizer::Regex {};
BpeTokenizer::~BpeTokenizer() = default;
namespace {
[[noreturn]] void no_bpe() {
    throw UnsupportedError("this build has no byte-level BPE tokenizer (Qwen, LLaMA-3): it was built without PCRE2/ICU",
                           "install libpcre2-dev and libicu-dev and rebuild");
}
}  // namespace
std::unique_ptr<BpeTokenizer> BpeTokenizer::from_tokenizer_json(const std::filesystem::path&, const nlohmann::json&) { no_bpe(); }
std::unique_ptr<BpeTokenizer> BpeTokenizer::from_vocab_merges(const std::filesystem::path&, const nlohmann::json&) { no_bpe(); }
std::unique_ptr<BpeTokenizer> BpeTokenizer::from_tiktoken(const std::filesystem::path&, const nlohmann::json&) { no_bpe(); }
bool BpeTokenizer::is_tiktoken_file(const std::filesystem::path&) { return false; }
bool BpeTokenizer::is_sentencepiece_layout(const std::filesystem::path&) { return false; }
std::vector<int64_t> BpeTokenizer::encode(const std::string&) const { no_bpe(); }
std::string BpeTokenizer::decode(const std::vector<int64_t>&, bool) const { no_bpe(); }
std::optional<int64_t> BpeTokenizer::token_to_id(const std::string&) const { no_bpe(); }
bool BpeTokenizer::is_special(int64_t) const { no_bpe(); }
}  // namespace tb
#else

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <queue>
#include <sstream>
#include <tuple>

#include "core/error.h"
#include "io/atomic_file.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/utf8.h"

namespace tb {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Qwen2Tokenizer's pre-tokenizer pattern (used when only vocab.json + merges.txt exist).
const char* kQwenPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// GPT-2's, for a ByteLevel pre-tokenizer with use_regex and no explicit Split.
const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// GPT-2 bytes_to_unicode: printable bytes map to themselves, the rest to U+0100….
struct ByteMap {
    std::string to_unicode[256];
    std::unordered_map<std::string, unsigned char> to_byte;
    ByteMap() {
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
            to_unicode[b] = utf8::encode(cp);
            to_byte[to_unicode[b]] = static_cast<unsigned char>(b);
        }
    }
};
const ByteMap& byte_map() {
    static const ByteMap m;
    return m;
}

std::string nfc(const std::string& s) {
    bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (ascii) return s;
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2* n = unorm2_getNFCInstance(&err);
    std::u16string in(s.size() + 1, u'\0');
    int32_t in_len = 0;
    u_strFromUTF8(in.data(), static_cast<int32_t>(in.size()), &in_len, s.data(), static_cast<int32_t>(s.size()), &err);
    std::u16string out(in_len * 3 + 16, u'\0');
    int32_t out_len = unorm2_normalize(n, in.data(), in_len, out.data(), static_cast<int32_t>(out.size()), &err);
    std::string res(out_len * 3 + 16, '\0');
    int32_t res_len = 0;
    u_strToUTF8(res.data(), static_cast<int32_t>(res.size()), &res_len, out.data(), out_len, &err);
    if (U_FAILURE(err)) return s;
    res.resize(res_len);
    return res;
}

std::string token_content(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
    return {};
}

// Largest id accepted from a file: real vocabularies stop near 260k; a damaged id must not make
// the loader allocate gigabytes.
constexpr int64_t kMaxTokenId = (int64_t{1} << 21) - 1;

int64_t checked_id(const json& id, const std::string& token, const std::string& where) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > kMaxTokenId) {
        throw FileError(where + ": token " + io::json_excerpt(json(token), 40) + " has the id " + io::json_excerpt(id, 40) +
                            ", expected an integer from 0 to " + std::to_string(kMaxTokenId),
                        "the tokenizer file is damaged: copy it again from the base model");
    }
    return id.get<int64_t>();
}

// A merge is "a b" (older files) or ["a", "b"] (tokenizers >= 0.20).
std::string merge_key(const json& m, size_t index, const std::string& where) {
    if (m.is_string()) {
        const std::string v = m.get<std::string>();
        const size_t space = v.find(' ');
        if (space != std::string::npos && space > 0 && space + 1 < v.size()) return v;
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string() &&
               !m[0].get<std::string>().empty() && !m[1].get<std::string>().empty()) {
        return m[0].get<std::string>() + " " + m[1].get<std::string>();
    }
    throw FileError(where + ": merge " + std::to_string(index) + " is " + io::json_excerpt(m) +
                        ", expected \"left right\" or [\"left\", \"right\"]",
                    "the tokenizer file is damaged: copy it again from the base model");
}

// LLaMA-2-style tokenizer.json: a SentencePiece BPE converted by transformers (byte fallback,
// "▁" for spaces), not byte-level BPE.
bool is_sentencepiece_bpe(const json& j) {
    if (!j.is_object() || !j.contains("model") || !j["model"].is_object()) return false;
    const json& model = j["model"];
    if (model.contains("byte_fallback") && model["byte_fallback"].is_boolean() && model["byte_fallback"].get<bool>())
        return true;
    return j.contains("decoder") && io::dump_json(j["decoder"]).find("ByteFallback") != std::string::npos;
}

// Finds the Split regex inside a pre_tokenizer (possibly nested in a Sequence).
std::string find_split_pattern(const json& pt, bool& byte_level_regex) {
    if (!pt.is_object()) return {};
    std::string type = pt.value("type", std::string());
    if (type == "Sequence" && pt.contains("pretokenizers") && pt["pretokenizers"].is_array()) {
        for (const auto& p : pt["pretokenizers"]) {
            auto s = find_split_pattern(p, byte_level_regex);
            if (!s.empty()) return s;
        }
    } else if (type == "Split" && pt.contains("pattern")) {
        const auto& pat = pt["pattern"];
        if (pat.contains("Regex")) return pat["Regex"].get<std::string>();
    } else if (type == "ByteLevel" && pt.value("use_regex", true)) {
        byte_level_regex = true;
    }
    return {};
}

}  // namespace

struct BpeTokenizer::Regex {
    pcre2_code* code = nullptr;
    pcre2_match_context* limits = nullptr;  // a pattern from a file must not backtrack forever
    ~Regex() {
        if (limits) pcre2_match_context_free(limits);
        if (code) pcre2_code_free(code);
    }
};

BpeTokenizer::~BpeTokenizer() = default;

void BpeTokenizer::set_pattern(const std::string& pattern, const std::string& source) {
    pattern_ = pattern;
    regex_ = std::make_unique<Regex>();
    int err = 0;
    PCRE2_SIZE off = 0;
    regex_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), pattern.size(),
                                 PCRE2_UTF | PCRE2_UCP, &err, &off, nullptr);
    if (!regex_->code) {
        throw UnsupportedError(source + ": the pre-tokenizer regex cannot be compiled (offset " +
                               std::to_string(off) + ")");
    }
    pcre2_jit_compile(regex_->code, PCRE2_JIT_COMPLETE);
    regex_->limits = pcre2_match_context_create(nullptr);
    pcre2_set_match_limit(regex_->limits, 1'000'000);
    pcre2_set_depth_limit(regex_->limits, 10'000);
}

void BpeTokenizer::set_vocab_entry(const std::string& token, int64_t id) {
    vocab_[token] = id;
    if (static_cast<size_t>(id) >= id_to_token_.size()) {
        id_to_token_.resize(id + 1);
        special_.resize(id + 1, false);
    }
    id_to_token_[id] = token;
}

void BpeTokenizer::add_token(const std::string& content, int64_t id, bool special) {
    if (static_cast<size_t>(id) >= id_to_token_.size()) {
        id_to_token_.resize(id + 1);
        special_.resize(id + 1, false);
    }
    id_to_token_[id] = content;
    special_[id] = special;
    for (auto& a : added_)
        if (a.content == content) return;
    added_.push_back({content, id, special});
}

void BpeTokenizer::finish(const json& tcfg, const std::string& post_processor_text) {
    std::sort(added_.begin(), added_.end(), [](const Added& a, const Added& b) { return a.content.size() > b.content.size(); });
    special_.resize(id_to_token_.size(), false);
    auto id_of = [&](const char* key) -> std::optional<int64_t> {
        if (!tcfg.is_object() || !tcfg.contains(key)) return std::nullopt;
        auto s = token_content(tcfg[key]);
        return s.empty() ? std::nullopt : token_to_id(s);
    };
    bos_id = id_of("bos_token");
    eos_id = id_of("eos_token");
    pad_id = id_of("pad_token");
    if (tcfg.is_object() && tcfg.contains("add_bos_token") && tcfg["add_bos_token"].is_boolean()) {
        add_bos = tcfg["add_bos_token"].get<bool>();
    } else if (bos_id) {
        // tokenizer.json's post-processor template adds BOS (LLaMA-3).
        add_bos = post_processor_text.find(id_to_token_[*bos_id]) != std::string::npos;
    }
}

bool BpeTokenizer::is_sentencepiece_layout(const fs::path& tokenizer_json) {
    try {
        return is_sentencepiece_bpe(io::parse_json(io::read_file(tokenizer_json), tokenizer_json.string()));
    } catch (const std::exception&) {
        return false;  // from_tokenizer_json reports what is wrong with the file
    }
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_tokenizer_json(const fs::path& folder, const json& tcfg) {
    const auto path = folder / "tokenizer.json";
    const std::string where = path.string();
    json j;
    try {
        j = io::parse_json(io::read_file(path), where);
    } catch (const json::parse_error& e) {
        throw FileError(where + " is not valid JSON: " + e.what(), "the file may be truncated");
    }
    if (!j.is_object()) throw FileError(where + ": expected a JSON object", "copy tokenizer.json again from the base model");
    const json& model = j["model"];
    if (!model.is_object() || !model.contains("type") || model["type"] != "BPE") {
        throw UnsupportedError(where + ": tokenizer model type " +
                                   (model.is_object() && model.contains("type") ? io::json_excerpt(model["type"]) : std::string("?")) +
                                   " is not supported",
                               "supported: BPE (byte-level) in tokenizer.json, or tokenizer.model (SentencePiece)");
    }
    if (is_sentencepiece_bpe(j)) {
        throw UnsupportedError(where + " is a SentencePiece BPE (byte fallback, as LLaMA-2's), which Tunebench reads from "
                                       "tokenizer.model",
                               "copy tokenizer.model from the base model into " + folder.string());
    }
    std::unique_ptr<BpeTokenizer> t(new BpeTokenizer());
    try {
        if (!model.contains("vocab") || !model["vocab"].is_object())
            throw FileError(where + ": model.vocab is missing or not an object", "copy tokenizer.json again");
        for (auto& [tok, id] : model["vocab"].items()) t->set_vocab_entry(tok, checked_id(id, tok, where));
        if (!model.contains("merges") || !model["merges"].is_array())
            throw FileError(where + ": model.merges is missing or not a list", "copy tokenizer.json again");
        int rank = 0;
        for (const auto& m : model["merges"]) {
            t->merge_rank_.emplace(merge_key(m, rank, where), rank);
            ++rank;
        }
        t->ignore_merges_ = model.contains("ignore_merges") && model["ignore_merges"].is_boolean() &&
                            model["ignore_merges"].get<bool>();
        if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
            for (const auto& a : j["added_tokens"]) {
                const std::string content = token_content(a);
                if (content.empty() || !a.contains("id"))
                    throw FileError(where + ": an added_tokens entry has no content or id: " + io::json_excerpt(a, 80),
                                    "copy tokenizer.json again from the base model");
                const bool special = a.contains("special") && a["special"].is_boolean() && a["special"].get<bool>();
                t->add_token(content, checked_id(a["id"], content, where), special);
            }
        }
        const json& norm = j["normalizer"];
        t->nfc_ = norm.is_object() && io::dump_json(norm).find("\"NFC\"") != std::string::npos;
        bool byte_level_regex = false;
        std::string pattern = find_split_pattern(j["pre_tokenizer"], byte_level_regex);
        if (pattern.empty()) pattern = byte_level_regex ? kGpt2Pattern : kQwenPattern;
        t->set_pattern(pattern, where);
    } catch (const json::exception& e) {  // a key of the wrong type
        throw FileError(where + ": unexpected content (" + e.what() + ")", "copy tokenizer.json again from the base model");
    }
    t->finish(tcfg, j.contains("post_processor") ? io::dump_json(j["post_processor"]) : std::string());
    return t;
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_vocab_merges(const fs::path& folder, const json& tcfg) {
    std::unique_ptr<BpeTokenizer> t(new BpeTokenizer());
    const std::string where = (folder / "vocab.json").string();
    json vocab;
    try {
        vocab = io::parse_json(io::read_file(folder / "vocab.json"), where);
    } catch (const json::parse_error& e) {
        throw FileError(where + " is not valid JSON: " + e.what());
    }
    if (!vocab.is_object()) throw FileError(where + ": expected an object of token -> id", "copy vocab.json again");
    for (auto& [tok, id] : vocab.items()) t->set_vocab_entry(tok, checked_id(id, tok, where));
    std::ifstream in(folder / "merges.txt");
    std::string line;
    int rank = 0;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.rfind("#version", 0) == 0) continue;
        t->merge_rank_.emplace(merge_key(json(line), rank, (folder / "merges.txt").string()), rank);
        ++rank;
    }
    try {
        if (fs::exists(folder / "added_tokens.json")) {
            const std::string added_where = (folder / "added_tokens.json").string();
            auto added = io::parse_json(io::read_file(folder / "added_tokens.json"), added_where);
            if (!added.is_object()) throw FileError(added_where + ": expected an object of token -> id");
            for (auto& [tok, id] : added.items()) t->add_token(tok, checked_id(id, tok, added_where), true);
        }
        if (tcfg.is_object() && tcfg.contains("added_tokens_decoder") && tcfg["added_tokens_decoder"].is_object()) {
            for (auto& [id, a] : tcfg["added_tokens_decoder"].items()) {
                const std::string content = token_content(a);
                char* end = nullptr;
                const long long value = std::strtoll(id.c_str(), &end, 10);
                if (content.empty() || id.empty() || *end != '\0')
                    throw FileError("tokenizer_config.json: added_tokens_decoder entry '" + id.substr(0, 40) +
                                    "' needs a numeric id and a content");
                const bool special = a.contains("special") && a["special"].is_boolean() && a["special"].get<bool>();
                t->add_token(content, checked_id(json(value), content, "tokenizer_config.json"), special);
            }
        }
    } catch (const json::exception& e) {
        throw FileError(folder.string() + ": unexpected tokenizer content (" + e.what() + ")",
                        "copy the tokenizer files again from the base model");
    }
    t->nfc_ = true;  // Qwen2Tokenizer normalises to NFC
    t->set_pattern(kQwenPattern, where);
    t->finish(tcfg, {});
    return t;
}

namespace {
// RFC 4648 base64; nullopt for anything else
std::optional<std::string> base64_decode(const std::string& in) {
    static const std::string abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    size_t i = 0;
    for (; i < in.size() && in[i] != '='; ++i) {
        const auto v = abc.find(in[i]);
        if (v == std::string::npos) return std::nullopt;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
    }
    for (; i < in.size(); ++i)
        if (in[i] != '=') return std::nullopt;
    return out;
}

// the two parts tiktoken's BPE joins last when it spells `token` from bytes with ranks below its own
std::pair<std::string, std::string> last_merge(const std::string& token, int64_t rank,
                                               const std::unordered_map<std::string, int64_t>& ranks) {
    std::vector<std::string> parts;
    for (char c : token) parts.emplace_back(1, c);
    while (parts.size() > 2) {
        size_t best = 0;
        int64_t best_rank = -1;
        for (size_t i = 0; i + 1 < parts.size(); ++i) {
            auto it = ranks.find(parts[i] + parts[i + 1]);
            if (it != ranks.end() && it->second < rank && (best_rank < 0 || it->second < best_rank)) {
                best = i;
                best_rank = it->second;
            }
        }
        if (best_rank < 0) break;
        parts[best] += parts[best + 1];
        parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    }
    if (parts.size() != 2) return {};
    return {parts[0], parts[1]};
}
}  // namespace

bool BpeTokenizer::is_tiktoken_file(const fs::path& path) {
    std::ifstream in(path);
    std::string line;
    if (!std::getline(in, line)) return false;
    const auto space = line.find(' ');
    return space != std::string::npos && space > 0 && base64_decode(line.substr(0, space)).has_value() &&
           line.find_first_not_of("0123456789", space + 1) == std::string::npos && space + 1 < line.size();
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_tiktoken(const fs::path& folder, const json& tcfg) {
    const auto path = folder / "tokenizer.model";
    std::ifstream in(path);
    if (!in) throw FileError("cannot read " + path.string());
    std::unordered_map<std::string, int64_t> ranks;  // token bytes → rank
    std::vector<std::pair<std::string, int64_t>> entries;
    std::string line;
    for (int64_t n = 1; std::getline(in, line); ++n) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        const auto space = line.find(' ');
        const auto bytes = space == std::string::npos ? std::nullopt : base64_decode(line.substr(0, space));
        char* end = nullptr;
        const long long rank = bytes ? std::strtoll(line.c_str() + space + 1, &end, 10) : -1;
        if (!bytes || bytes->empty() || rank < 0 || *end != '\0')
            throw FileError(path.string() + " line " + std::to_string(n) + ": expected \"<base64 token> <rank>\"",
                            "the tiktoken file is damaged: copy tokenizer.model again from the model's release");
        if (bytes->size() > 1024)  // real vocabularies stay far below; spelling one costs its length squared
            throw FileError(path.string() + " line " + std::to_string(n) + ": a token of " + std::to_string(bytes->size()) +
                                " bytes is not a tiktoken vocabulary's",
                            "the file is damaged: copy tokenizer.model again from the model's release");
        entries.emplace_back(*bytes, rank);
    }
    if (entries.size() < 256) throw FileError(path.string() + " holds " + std::to_string(entries.size()) + " tokens, not a tiktoken vocabulary");
    // ranks are 0 … n-1, each once (checked before anything is sized by them)
    std::vector<std::string> by_rank(entries.size());
    for (auto& [bytes, rank] : entries) {
        if (rank >= static_cast<int64_t>(entries.size()) || !by_rank[static_cast<size_t>(rank)].empty() || !ranks.emplace(bytes, rank).second)
            throw FileError(path.string() + ": rank " + std::to_string(rank) + " is out of order, repeated or names a repeated token",
                            "the tiktoken file is damaged: copy tokenizer.model again from the model's release");
        by_rank[static_cast<size_t>(rank)] = std::move(bytes);
    }
    const auto& bm = byte_map();
    auto level = [&](const std::string& b) {
        std::string s;
        for (unsigned char c : b) s += bm.to_unicode[c];
        return s;
    };
    std::unique_ptr<BpeTokenizer> t(new BpeTokenizer());
    for (size_t r = 0; r < by_rank.size(); ++r) {
        if (by_rank[r].empty()) throw FileError(path.string() + ": rank " + std::to_string(r) + " is missing");
        t->set_vocab_entry(level(by_rank[r]), static_cast<int64_t>(r));
        if (by_rank[r].size() < 2) continue;
        const auto [a, b] = last_merge(by_rank[r], static_cast<int64_t>(r), ranks);
        if (a.empty()) throw FileError(path.string() + ": token of rank " + std::to_string(r) + " cannot be built from lower ranks");
        t->merge_rank_.emplace(level(a) + " " + level(b), static_cast<int>(t->merge_rank_.size()));  // dense, in rank order
    }
    // tokenization_chatglm.py (GLM-4): the specials after the ranks
    static const char* specials[] = {"<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>", "<|system|>",
                                     "<|user|>", "<|assistant|>", "<|observation|>", "<|begin_of_image|>",
                                     "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>"};
    int64_t id = static_cast<int64_t>(by_rank.size());
    for (const char* sp : specials) t->add_token(sp, id++, true);
    t->set_pattern(gguf_pre_tokenizers()[1].regex, path.string());  // LLaMA-3's, which is GLM-4's
    json cfg = tcfg.is_object() ? tcfg : json::object();
    for (const char* key : {"eos_token", "pad_token"})
        if (!cfg.contains(key)) cfg[key] = "<|endoftext|>";
    t->finish(cfg, {});
    return t;
}

void BpeTokenizer::encode_piece(const std::string& piece, std::vector<int64_t>& out) const {
    constexpr size_t kCachedPieceBytes = 256;  // long pieces are rare; caching them only costs memory
    if (piece.size() <= kCachedPieceBytes) {
        std::lock_guard lock(cache_mutex_);
        auto it = cache_.find(piece);
        if (it != cache_.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    const auto& bm = byte_map();
    std::string mapped;
    // Symbols are byte ranges of `mapped` in a linked list; merging joins neighbours.
    struct Symbol {
        size_t start, len;
        int prev, next;
    };
    std::vector<Symbol> sym;
    for (unsigned char c : piece) {
        const int i = static_cast<int>(sym.size());
        sym.push_back({mapped.size(), bm.to_unicode[c].size(), i - 1, static_cast<int>(piece.size()) > i + 1 ? i + 1 : -1});
        mapped += bm.to_unicode[c];
    }
    std::vector<int64_t> ids;
    auto whole = vocab_.find(mapped);
    if (ignore_merges_ && whole != vocab_.end()) {
        ids.push_back(whole->second);
    } else {
        // Lowest rank first, leftmost among equal ranks (HF tokenizers' order): O(n log n), so a
        // long piece (a row without spaces) cannot stall the tokenizer.
        using Candidate = std::tuple<int, int, int, size_t, size_t>;  // rank, left, right, left len, right len
        std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
        std::string key;
        auto consider = [&](int left) {
            if (left < 0 || sym[left].next < 0) return;
            const Symbol& l = sym[left];
            const Symbol& r = sym[l.next];
            key.assign(mapped, l.start, l.len);
            key += ' ';
            key.append(mapped, r.start, r.len);
            auto rank = merge_rank_.find(key);
            if (rank != merge_rank_.end()) heap.emplace(rank->second, left, l.next, l.len, r.len);
        };
        for (int i = 0; i + 1 < static_cast<int>(sym.size()); ++i) consider(i);
        while (!heap.empty()) {
            auto [rank, left, right, left_len, right_len] = heap.top();
            heap.pop();
            Symbol& l = sym[left];
            Symbol& r = sym[right];
            if (l.len != left_len || r.len != right_len || l.next != right) continue;  // stale candidate
            l.len += r.len;
            l.next = r.next;
            if (r.next >= 0) sym[r.next].prev = left;
            r.len = 0;
            consider(l.prev);
            consider(left);
        }
        for (int i = sym.empty() ? -1 : 0; i >= 0; i = sym[i].next) {
            auto it = vocab_.find(mapped.substr(sym[i].start, sym[i].len));
            if (it != vocab_.end()) ids.push_back(it->second);
        }
    }
    out.insert(out.end(), ids.begin(), ids.end());
    if (piece.size() > kCachedPieceBytes) return;
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() > 200000) cache_.clear();
    cache_.emplace(piece, std::move(ids));
}

void BpeTokenizer::encode_ordinary(const std::string& raw, std::vector<int64_t>& out) const {
    if (raw.empty()) return;
    // Text reaching a tokenizer is valid UTF-8 (as a Python str is); checked once here so PCRE2
    // need not re-check the subject on every call.
    const std::string valid = utf8::sanitize(raw);
    const std::string text = nfc_ ? nfc(valid) : valid;
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(regex_->code, nullptr);
    size_t pos = 0;
    while (pos < text.size()) {
        int rc = pcre2_match(regex_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), pos, PCRE2_NO_UTF_CHECK,
                             md, regex_->limits);
        if (rc == PCRE2_ERROR_NOMATCH) {  // the rest matches nothing: one piece
            encode_piece(text.substr(pos), out);
            break;
        }
        if (rc < 0) {  // a match limit (a pathological pattern): this character is a piece of its own
            const size_t n = std::min(text.size() - pos, utf8::sequence_length(static_cast<unsigned char>(text[pos])));
            encode_piece(text.substr(pos, n), out);
            pos += n;
            continue;
        }
        PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        if (ov[0] > pos) encode_piece(text.substr(pos, ov[0] - pos), out);  // gap
        if (ov[1] == ov[0]) {  // empty match: step one character
            size_t n = utf8::sequence_length(static_cast<unsigned char>(text[ov[0]]));
            encode_piece(text.substr(ov[0], n), out);
            pos = ov[0] + n;
            continue;
        }
        encode_piece(text.substr(ov[0], ov[1] - ov[0]), out);
        pos = ov[1];
    }
    pcre2_match_data_free(md);
}

std::vector<int64_t> BpeTokenizer::encode(const std::string& text) const {
    std::vector<int64_t> out;
    size_t start = 0, i = 0;
    while (i < text.size()) {
        const Added* hit = nullptr;
        if (!added_.empty()) {
            for (const auto& a : added_) {
                if (!a.content.empty() && text.compare(i, a.content.size(), a.content) == 0) {
                    hit = &a;
                    break;
                }
            }
        }
        if (hit) {
            encode_ordinary(text.substr(start, i - start), out);
            out.push_back(hit->id);
            i += hit->content.size();
            start = i;
        } else {
            ++i;
        }
    }
    encode_ordinary(text.substr(start), out);
    return out;
}

std::string BpeTokenizer::decode(const std::vector<int64_t>& ids, bool skip_special) const {
    const auto& bm = byte_map();
    std::string bytes;
    for (int64_t id : ids) {
        if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) continue;
        if (special_[id]) {
            if (!skip_special) bytes += id_to_token_[id];
            continue;
        }
        const std::string& tok = id_to_token_[id];
        if (vocab_.count(tok) == 0) {  // added, non-special token: literal text
            bytes += tok;
            continue;
        }
        for (size_t k = 0; k < tok.size();) {
            size_t n = utf8::sequence_length(static_cast<unsigned char>(tok[k]));
            auto it = bm.to_byte.find(tok.substr(k, n));
            if (it != bm.to_byte.end()) bytes.push_back(static_cast<char>(it->second));
            else bytes += tok.substr(k, n);
            k += n;
        }
    }
    return utf8::sanitize(bytes);
}

std::optional<int64_t> BpeTokenizer::token_to_id(const std::string& token) const {
    for (const auto& a : added_)
        if (a.content == token) return a.id;
    auto it = vocab_.find(token);
    if (it != vocab_.end()) return it->second;
    return std::nullopt;
}

bool BpeTokenizer::is_special(int64_t id) const {
    return id >= 0 && static_cast<size_t>(id) < special_.size() && special_[id];
}

}  // namespace tb
#endif  // TB_WITH_BPE
