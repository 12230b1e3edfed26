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
#include <sstream>

#include "core/error.h"
#include "io/atomic_file.h"
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
    if (v.is_object() && v.contains("content")) return v["content"].get<std::string>();
    return {};
}

// Finds the Split regex inside a pre_tokenizer (possibly nested in a Sequence).
std::string find_split_pattern(const json& pt, bool& byte_level_regex) {
    if (!pt.is_object()) return {};
    std::string type = pt.value("type", std::string());
    if (type == "Sequence") {
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
    ~Regex() {
        if (code) pcre2_code_free(code);
    }
};

BpeTokenizer::~BpeTokenizer() = default;

void BpeTokenizer::set_pattern(const std::string& pattern, const std::string& source) {
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
}

void BpeTokenizer::add_token(const std::string& content, int64_t id, bool special) {
    if (id < 0) return;
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

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_tokenizer_json(const fs::path& folder, const json& tcfg) {
    const auto path = folder / "tokenizer.json";
    json j;
    try {
        j = io::parse_json(io::read_file(path), path.string());
    } catch (const json::parse_error& e) {
        throw FileError(path.string() + " is not valid JSON: " + e.what(), "the file may be truncated");
    }
    const json& model = j["model"];
    if (!model.is_object() || model.value("type", std::string()) != "BPE") {
        throw UnsupportedError(path.string() + ": tokenizer model type '" +
                                   (model.is_object() ? model.value("type", std::string("?")) : std::string("?")) +
                                   "' is not supported",
                               "supported: BPE (byte-level) in tokenizer.json, or tokenizer.model (SentencePiece)");
    }
    std::unique_ptr<BpeTokenizer> t(new BpeTokenizer());
    for (auto& [tok, id] : model["vocab"].items()) {
        int64_t i = id.get<int64_t>();
        t->vocab_[tok] = i;
        if (static_cast<size_t>(i) >= t->id_to_token_.size()) t->id_to_token_.resize(i + 1);
        t->id_to_token_[i] = tok;
    }
    int rank = 0;
    for (const auto& m : model["merges"]) {
        std::string key = m.is_string() ? m.get<std::string>() : m[0].get<std::string>() + " " + m[1].get<std::string>();
        t->merge_rank_.emplace(key, rank++);
    }
    t->ignore_merges_ = model.value("ignore_merges", false);
    if (j.contains("added_tokens"))
        for (const auto& a : j["added_tokens"]) t->add_token(a["content"], a["id"], a.value("special", false));
    const json& norm = j["normalizer"];
    t->nfc_ = norm.is_object() && (norm.value("type", std::string()) == "NFC" || norm.dump().find("\"NFC\"") != std::string::npos);
    bool byte_level_regex = false;
    std::string pattern = find_split_pattern(j["pre_tokenizer"], byte_level_regex);
    if (pattern.empty()) pattern = byte_level_regex ? kGpt2Pattern : kQwenPattern;
    t->set_pattern(pattern, path.string());
    t->finish(tcfg, j.contains("post_processor") ? j["post_processor"].dump() : std::string());
    return t;
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_vocab_merges(const fs::path& folder, const json& tcfg) {
    std::unique_ptr<BpeTokenizer> t(new BpeTokenizer());
    json vocab;
    try {
        vocab = io::parse_json(io::read_file(folder / "vocab.json"), (folder / "vocab.json").string());
    } catch (const json::parse_error& e) {
        throw FileError((folder / "vocab.json").string() + " is not valid JSON: " + e.what());
    }
    for (auto& [tok, id] : vocab.items()) {
        int64_t i = id.get<int64_t>();
        t->vocab_[tok] = i;
        if (static_cast<size_t>(i) >= t->id_to_token_.size()) t->id_to_token_.resize(i + 1);
        t->id_to_token_[i] = tok;
    }
    std::ifstream in(folder / "merges.txt");
    std::string line;
    int rank = 0;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.rfind("#version", 0) == 0) continue;
        t->merge_rank_.emplace(line, rank++);
    }
    if (fs::exists(folder / "added_tokens.json")) {
        auto added = io::parse_json(io::read_file(folder / "added_tokens.json"), (folder / "added_tokens.json").string());
        for (auto& [tok, id] : added.items()) t->add_token(tok, id.get<int64_t>(), true);
    }
    if (tcfg.is_object() && tcfg.contains("added_tokens_decoder")) {
        for (auto& [id, a] : tcfg["added_tokens_decoder"].items())
            t->add_token(a["content"], std::stoll(id), a.value("special", false));
    }
    t->nfc_ = true;  // Qwen2Tokenizer normalises to NFC
    t->set_pattern(kQwenPattern, (folder / "vocab.json").string());
    t->finish(tcfg, {});
    return t;
}

void BpeTokenizer::encode_piece(const std::string& piece, std::vector<int64_t>& out) const {
    {
        std::lock_guard lock(cache_mutex_);
        auto it = cache_.find(piece);
        if (it != cache_.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    const auto& bm = byte_map();
    std::string mapped;
    std::vector<std::string> sym;
    for (unsigned char c : piece) {
        mapped += bm.to_unicode[c];
        sym.push_back(bm.to_unicode[c]);
    }
    std::vector<int64_t> ids;
    auto whole = vocab_.find(mapped);
    if (ignore_merges_ && whole != vocab_.end()) {
        ids.push_back(whole->second);
    } else {
        while (sym.size() > 1) {
            int best = INT32_MAX;
            for (size_t i = 0; i + 1 < sym.size(); ++i) {
                auto r = merge_rank_.find(sym[i] + " " + sym[i + 1]);
                if (r != merge_rank_.end() && r->second < best) best = r->second;
            }
            if (best == INT32_MAX) break;
            std::vector<std::string> next;
            for (size_t i = 0; i < sym.size(); ++i) {
                if (i + 1 < sym.size()) {
                    auto r = merge_rank_.find(sym[i] + " " + sym[i + 1]);
                    if (r != merge_rank_.end() && r->second == best) {
                        next.push_back(sym[i] + sym[i + 1]);
                        ++i;
                        continue;
                    }
                }
                next.push_back(sym[i]);
            }
            sym.swap(next);
        }
        for (const auto& s : sym) {
            auto it = vocab_.find(s);
            if (it != vocab_.end()) ids.push_back(it->second);
        }
    }
    out.insert(out.end(), ids.begin(), ids.end());
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() > 200000) cache_.clear();
    cache_.emplace(piece, std::move(ids));
}

void BpeTokenizer::encode_ordinary(const std::string& raw, std::vector<int64_t>& out) const {
    if (raw.empty()) return;
    const std::string text = nfc_ ? nfc(raw) : raw;
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(regex_->code, nullptr);
    size_t pos = 0;
    while (pos < text.size()) {
        int rc = pcre2_match(regex_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), pos, 0, md, nullptr);
        if (rc < 0) {  // the rest matches nothing: one piece
            encode_piece(text.substr(pos), out);
            break;
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
