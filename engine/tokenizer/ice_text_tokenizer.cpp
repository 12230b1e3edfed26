// ChatGLM-6B's ice_text tokenizer; see ice_text_tokenizer.h.
#include "tokenizer/ice_text_tokenizer.h"

#include <nlohmann/json.hpp>

#include <array>

#include "core/error.h"
#include "tokenizer/spm_library.h"

namespace tb {
namespace {
constexpr int kMaxBlank = 80;
const std::array<const char*, 8> kSpecials = {"[MASK]", "[gMASK]", "[sMASK]", "<unused_0>",
                                              "<sop>",  "<eop>",   "<ENC>",   "<dBLOCK>"};

std::string blank(int n) { return "<|blank_" + std::to_string(n) + "|>"; }
}  // namespace

IceTextTokenizer::IceTextTokenizer(const std::filesystem::path& model, const nlohmann::json& tcfg)
    : sp_(std::make_unique<spm::Processor>(model)) {
    sp_size_ = sp_->piece_size();
    if (tcfg.is_object() && tcfg.contains("num_image_tokens")) {
        if (!tcfg["num_image_tokens"].is_number_integer() || tcfg["num_image_tokens"].get<int64_t>() < 0)
            throw ConfigError(model.parent_path().string() + "/tokenizer_config.json: num_image_tokens should be a "
                              "non-negative integer", "the released ChatGLM-6B has 0");
        offset_ = tcfg["num_image_tokens"].get<int64_t>();
    } else {
        offset_ = 20000;  // ChatGLMTokenizer's default (the checkpoints before the "slim" update)
    }
    auto named = [&](const char* key, const char* dflt) { return tcfg.is_object() ? tcfg.value(key, std::string(dflt)) : std::string(dflt); };
    bos_id = token_to_id(named("bos_token", "<sop>"));
    eos_id = token_to_id(named("eos_token", "<eop>"));
    pad_id = token_to_id(named("pad_token", "<pad>"));
    for (const char* s : kSpecials)
        if (!token_to_id(s))
            throw FileError(model.string() + " has no piece " + s + ": it is not ChatGLM-6B's ice_text.model",
                            "copy ice_text.model from the THUDM/chatglm-6b release");
}

IceTextTokenizer::~IceTextTokenizer() = default;

// SPTokenizer._preprocess in one pass: its replacements from 80 spaces down to 2 write each run as
// as many <|blank_80|> as fit, then <|blank_r|> for the rest (a single space stays)
std::string IceTextTokenizer::preprocess(const std::string& text) {
    std::string s;
    s.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        if (text[i] == '\n' || text[i] == '\t') {
            s += text[i++] == '\n' ? "<n>" : "<|tab|>";
            continue;
        }
        if (text[i] != ' ') {
            s += text[i++];
            continue;
        }
        size_t run = 0;
        while (i + run < text.size() && text[i + run] == ' ') ++run;
        i += run;
        for (; run >= kMaxBlank; run -= kMaxBlank) s += blank(kMaxBlank);
        if (run >= 2) s += blank(static_cast<int>(run));
        else if (run == 1) s += ' ';
    }
    return s;
}

// SPTokenizer.postprocess in one pass (its replacements never make a new tag)
std::string IceTextTokenizer::postprocess(const std::string& text) {
    std::string s;
    s.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '<') {
            if (text.compare(i, 3, "<n>") == 0) {
                s += '\n';
                i += 2;
                continue;
            }
            if (text.compare(i, 7, "<|tab|>") == 0) {
                s += '\t';
                i += 6;
                continue;
            }
            if (text.compare(i, 8, "<|blank_") == 0 && i + 8 < text.size() && text[i + 8] != '0') {
                size_t j = i + 8;
                int n = 0;
                while (j < text.size() && j < i + 10 && text[j] >= '0' && text[j] <= '9') n = n * 10 + (text[j++] - '0');
                if (j > i + 8 && text.compare(j, 2, "|>") == 0 && n >= 2 && n <= kMaxBlank) {
                    s.append(static_cast<size_t>(n), ' ');
                    i = j + 1;
                    continue;
                }
            }
        }
        s += text[i];
    }
    return s;
}

std::vector<int64_t> IceTextTokenizer::encode(const std::string& text) const {
    std::vector<int64_t> out;
    for (int id : sp_->encode(preprocess(text))) out.push_back(id + offset_);
    return out;
}

std::string IceTextTokenizer::decode(const std::vector<int64_t>& ids, bool skip_special) const {
    std::vector<int> pieces;
    for (int64_t id : ids) {
        if (id < offset_ || id >= offset_ + sp_size_ || id == pad_id) continue;  // image tokens, padding
        if (skip_special && is_special(id)) continue;
        pieces.push_back(static_cast<int>(id - offset_));
    }
    return postprocess(sp_->decode(pieces));
}

std::optional<int64_t> IceTextTokenizer::token_to_id(const std::string& token) const {
    const int id = sp_->piece_to_id(token);
    if (id == sp_->unk_id() && token != sp_->id_to_piece(id)) return std::nullopt;
    return id + offset_;
}

std::string IceTextTokenizer::id_to_token(int64_t id) const {
    if (id < 0 || id >= offset_ + sp_size_) return {};
    if (id < offset_) return "<image_" + std::to_string(id) + ">";
    return sp_->id_to_piece(static_cast<int>(id - offset_));
}

bool IceTextTokenizer::is_special(int64_t id) const {
    if (id < offset_ || id >= offset_ + sp_size_) return true;
    const int sp = static_cast<int>(id - offset_);
    if (sp_->is_control(sp) || sp_->is_unknown(sp) || id == pad_id) return true;
    const std::string piece = sp_->id_to_piece(sp);
    for (const char* s : kSpecials)
        if (piece == s) return true;
    return false;
}

int64_t IceTextTokenizer::vocab_size() const { return offset_ + sp_size_; }

}  // namespace tb
