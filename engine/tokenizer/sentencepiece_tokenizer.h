// SentencePiece tokenizers through libsentencepiece (behind spm_library.h): LLaMA-2 style (BOS from add_bos_token)
// and ChatGLM2/3 (special tokens appended after the SentencePiece vocabulary, prefix [gMASK, sop]).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <memory>

#include "tokenizer/tokenizer.h"

namespace tb::spm {
class Processor;
}

namespace tb {

class SentencePieceTokenizer : public Tokenizer {
public:
    // chatglm: 0 (a plain SentencePiece model), 2 (ChatGLM2: 5 specials) or 3 (ChatGLM3: 9, with
    // the role tokens <|system|> … <|observation|>).
    SentencePieceTokenizer(const std::filesystem::path& model, const nlohmann::json& tokenizer_config,
                           int chatglm);
    ~SentencePieceTokenizer() override;

    std::vector<int64_t> encode(const std::string& text) const override;
    std::string decode(const std::vector<int64_t>& ids, bool skip_special = true) const override;
    std::optional<int64_t> token_to_id(const std::string& token) const override;
    std::string id_to_token(int64_t id) const override;
    bool is_special(int64_t id) const override;
    int64_t vocab_size() const override;
    std::string kind() const override { return chatglm_ ? "chatglm" : "sentencepiece"; }
    std::vector<int64_t> prefix_ids() const override;

    // ChatGLM3's specials in id order, starting at the SentencePiece piece count (ChatGLM2 has
    // the first 5).
    static const std::vector<std::string>& chatglm_specials();

private:
    std::unique_ptr<spm::Processor> sp_;
    bool chatglm_ = false;
    int64_t specials_ = 0;  // how many of chatglm_specials() this model has
    int64_t sp_size_ = 0;
};

}  // namespace tb
