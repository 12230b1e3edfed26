// Byte-level BPE (GPT-2 family: Qwen2/2.5/3, LLaMA-3) from tokenizer.json or vocab.json +
// merges.txt: added/special tokens split out first, NFC when the normalizer says so, the
// pre-tokenizer's own regex (PCRE2), byte→unicode mapping, merges by rank, ignore_merges.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace tb {

class BpeTokenizer : public Tokenizer {
public:
    static std::unique_ptr<BpeTokenizer> from_tokenizer_json(const std::filesystem::path& folder,
                                                             const nlohmann::json& tokenizer_config);
    static std::unique_ptr<BpeTokenizer> from_vocab_merges(const std::filesystem::path& folder,
                                                           const nlohmann::json& tokenizer_config);
    // GLM-4's remote-code tokenizer (THUDM/glm-4-9b-chat, FORMATS.md §4.2): tokenizer.model holds
    // tiktoken's "base64-token rank" lines. Ranks become the vocabulary and, as convert_hf_to_gguf
    // derives them, the merges (each token's last merge in tiktoken's own BPE over lower ranks);
    // LLaMA-3's split regex (GLM-4's); its 14 specials follow the ranks, <|endoftext|> first.
    static std::unique_ptr<BpeTokenizer> from_tiktoken(const std::filesystem::path& folder,
                                                       const nlohmann::json& tokenizer_config);
    // True for a tokenizer.model in tiktoken's text format (not a SentencePiece model).
    static bool is_tiktoken_file(const std::filesystem::path& tokenizer_model);
    // True for a tokenizer.json that is a converted SentencePiece BPE (LLaMA-2's layout): such a
    // folder is read through its tokenizer.model.
    static bool is_sentencepiece_layout(const std::filesystem::path& tokenizer_json);
    ~BpeTokenizer() override;

    std::vector<int64_t> encode(const std::string& text) const override;
    std::string decode(const std::vector<int64_t>& ids, bool skip_special = true) const override;
    std::optional<int64_t> token_to_id(const std::string& token) const override;
    std::string id_to_token(int64_t id) const override {
        return id >= 0 && id < static_cast<int64_t>(id_to_token_.size()) ? id_to_token_[static_cast<size_t>(id)] : std::string();
    }
    bool is_special(int64_t id) const override;
    int64_t vocab_size() const override { return static_cast<int64_t>(id_to_token_.size()); }
    std::string kind() const override { return "bpe"; }

    // The vocabulary as a GGUF file lists it (convert_hf_to_gguf.py's get_vocab_base): each id's
    // token in the byte-level form ("" for a hole), whether it is an added token, the merges by
    // rank ("left right"), the pre-tokenizer's regex and whether a word in the vocabulary skips the
    // merges.
    const std::vector<std::string>& tokens() const { return id_to_token_; }
    bool is_added(int64_t id) const {
        for (const auto& a : added_)
            if (a.id == id) return true;
        return false;
    }
    std::vector<std::string> merges() const {
        std::vector<std::string> by_rank(merge_rank_.size());
        for (const auto& [pair, rank] : merge_rank_) by_rank.at(static_cast<size_t>(rank)) = pair;
        std::erase(by_rank, std::string());  // a repeated merge kept its first rank
        return by_rank;
    }
    const std::string& pattern() const { return pattern_; }
    bool ignore_merges() const { return ignore_merges_; }

private:
    BpeTokenizer() = default;
    void set_pattern(const std::string& pattern, const std::string& source);
    void set_vocab_entry(const std::string& token, int64_t id);
    void add_token(const std::string& content, int64_t id, bool special);
    void finish(const nlohmann::json& tokenizer_config, const std::string& post_processor_text);
    void encode_piece(const std::string& piece, std::vector<int64_t>& out) const;
    void encode_ordinary(const std::string& text, std::vector<int64_t>& out) const;

    std::unordered_map<std::string, int64_t> vocab_;
    std::vector<std::string> id_to_token_;
    std::unordered_map<std::string, int> merge_rank_;
    struct Added {
        std::string content;
        int64_t id;
        bool special;
    };
    std::vector<Added> added_;  // longest first
    std::vector<bool> special_;
    std::string pattern_;
    bool ignore_merges_ = false;
    bool nfc_ = false;
    struct Regex;
    std::unique_ptr<Regex> regex_;
    mutable std::mutex cache_mutex_;
    mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

}  // namespace tb
