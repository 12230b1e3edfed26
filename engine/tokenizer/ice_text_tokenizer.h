// ChatGLM-6B's tokenizer (ice_text.model, tokenization_chatglm.py; FORMATS.md §3.5): SentencePiece
// over text whose newlines, tabs and runs of 2–80 spaces are first written as <n>, <|tab|> and
// <|blank_N|> pieces; every id shifted by num_image_tokens (tokenizer_config.json, 20000 by the
// class default, 0 in the released config). Its specials ([MASK] [gMASK] [sMASK] <unused_0> <sop>
// <eop> <ENC> <dBLOCK>) are pieces of the model; they follow the prompt ([gMASK] <sop>), so there
// is no prefix (the chatglm6b template adds them).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <memory>

#include "tokenizer/tokenizer.h"

namespace tb::spm {
class Processor;
}

namespace tb {

class IceTextTokenizer : public Tokenizer {
public:
    IceTextTokenizer(const std::filesystem::path& model, const nlohmann::json& tokenizer_config);
    ~IceTextTokenizer() override;

    std::vector<int64_t> encode(const std::string& text) const override;
    std::string decode(const std::vector<int64_t>& ids, bool skip_special = true) const override;
    std::optional<int64_t> token_to_id(const std::string& token) const override;
    std::string id_to_token(int64_t id) const override;
    bool is_special(int64_t id) const override;
    int64_t vocab_size() const override;
    std::string kind() const override { return "chatglm6b"; }
    std::vector<int64_t> prefix_ids() const override { return {}; }

    // SPTokenizer._preprocess and postprocess: the text as the pieces spell it, and back.
    static std::string preprocess(const std::string& text);
    static std::string postprocess(const std::string& text);

private:
    std::unique_ptr<spm::Processor> sp_;
    int64_t offset_ = 0;  // num_image_tokens
    int64_t sp_size_ = 0;
};

}  // namespace tb
