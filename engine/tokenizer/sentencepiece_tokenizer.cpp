// SentencePiece wrapper; ChatGLM facts from MODELS.md §2.
#include "tokenizer/sentencepiece_tokenizer.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/spm_library.h"

namespace tb {

const std::vector<std::string>& SentencePieceTokenizer::chatglm_specials() {
    static const std::vector<std::string> s = {"[MASK]", "[gMASK]", "[sMASK]", "sop", "eop",
                                               "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"};
    return s;
}

SentencePieceTokenizer::SentencePieceTokenizer(const std::filesystem::path& model,
                                               const nlohmann::json& tcfg, int chatglm)
    : sp_(std::make_unique<spm::Processor>(model)), chatglm_(chatglm != 0), specials_(chatglm == 2 ? 5 : chatglm ? 9 : 0) {
    sp_size_ = sp_->piece_size();
    auto id_or_none = [](int v) -> std::optional<int64_t> { return v >= 0 ? std::optional<int64_t>(v) : std::nullopt; };
    bos_id = id_or_none(sp_->bos_id());
    eos_id = id_or_none(sp_->eos_id());
    if (chatglm_) {
        pad_id = id_or_none(sp_->unk_id());  // ChatGLM: pad = unk = 0
    } else {
        pad_id = id_or_none(sp_->pad_id());
        add_bos = tcfg.is_object() ? tcfg.value("add_bos_token", true) : true;
    }
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<int64_t> SentencePieceTokenizer::encode(const std::string& text) const {
    auto ids = sp_->encode(text);
    return {ids.begin(), ids.end()};
}

std::string SentencePieceTokenizer::decode(const std::vector<int64_t>& ids, bool skip_special) const {
    std::string out;
    std::vector<int> run;
    auto flush = [&] {
        if (run.empty()) return;
        out += sp_->decode(run);
        run.clear();
    };
    for (int64_t id : ids) {
        if (id >= sp_size_ || id < 0) {  // ChatGLM specials (or rows past the vocabulary)
            flush();
            const auto& sp = chatglm_specials();
            if (!skip_special && id - sp_size_ < specials_ && id >= sp_size_)
                out += sp[id - sp_size_];
            continue;
        }
        if (skip_special && (sp_->is_control(static_cast<int>(id)) || sp_->is_unknown(static_cast<int>(id)))) continue;
        run.push_back(static_cast<int>(id));
    }
    flush();
    return out;
}

std::optional<int64_t> SentencePieceTokenizer::token_to_id(const std::string& token) const {
    if (chatglm_) {
        const auto& sp = chatglm_specials();
        for (int64_t i = 0; i < specials_; ++i)
            if (sp[i] == token) return sp_size_ + i;
    }
    int id = sp_->piece_to_id(token);
    if (id == sp_->unk_id() && token != sp_->id_to_piece(id)) return std::nullopt;
    return id;
}

std::string SentencePieceTokenizer::id_to_token(int64_t id) const {
    if (id < 0) return {};
    if (id < sp_size_) return sp_->id_to_piece(static_cast<int>(id));
    if (chatglm_ && id - sp_size_ < specials_) return chatglm_specials()[static_cast<size_t>(id - sp_size_)];
    return {};
}

bool SentencePieceTokenizer::is_special(int64_t id) const {
    if (id >= sp_size_) return true;
    return sp_->is_control(static_cast<int>(id)) || sp_->is_unknown(static_cast<int>(id));
}

int64_t SentencePieceTokenizer::vocab_size() const {
    return sp_size_ + specials_;
}

std::vector<int64_t> SentencePieceTokenizer::prefix_ids() const {
    if (chatglm_) return {sp_size_ + 1, sp_size_ + 3};  // [gMASK], sop
    return Tokenizer::prefix_ids();
}

}  // namespace tb
