// The tokenizer interface shared by SentencePiece and byte-level BPE, and the loader that picks
// the right one from a model folder. No torch here.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tb {

struct ModelConfig;

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Plain text → ids, no BOS/prefix added (like HF encode(add_special_tokens=False)).
    virtual std::vector<int64_t> encode(const std::string& text) const = 0;
    // ids → text; special tokens are dropped when skip_special.
    virtual std::string decode(const std::vector<int64_t>& ids, bool skip_special = true) const = 0;
    // Id of a token string, special tokens included; nullopt when unknown.
    virtual std::optional<int64_t> token_to_id(const std::string& token) const = 0;
    // The token's string as the vocabulary lists it (a special token's text, a SentencePiece
    // piece, a byte-level BPE token); "" for an id outside the vocabulary.
    virtual std::string id_to_token(int64_t id) const = 0;
    virtual bool is_special(int64_t id) const = 0;
    virtual int64_t vocab_size() const = 0;
    virtual std::string kind() const = 0;  // "sentencepiece" | "chatglm" | "bpe"

    // ids a model input starts with (BOS when add_bos_token, [gMASK, sop] for ChatGLM).
    virtual std::vector<int64_t> prefix_ids() const;
    std::vector<int64_t> encode_with_prefix(const std::string& text) const;

    std::optional<int64_t> bos_id, eos_id, pad_id;
    bool add_bos = false;
};

// Loads tokenizer.json | vocab.json+merges.txt | tokenizer.model (+ tokenizer_config.json).
// `config` tells ChatGLM folders apart when tokenizer_config.json is missing.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& folder, const ModelConfig* config);

// Incremental detokenizer for streaming: feed ids, get the newly completed text (an incomplete
// UTF-8 sequence is held back until the next id completes it). Decodes only a short window
// (ids since the last emitted text, plus the ids before it as context for SentencePiece
// spacing), so a long reply costs O(n), not O(n²).
class StreamDecoder {
public:
    explicit StreamDecoder(const Tokenizer& tok) : tok_(tok) {}
    std::string push(int64_t id);
    std::string flush();  // whatever is still held back

private:
    std::string decode_from(size_t begin, size_t end) const;
    const Tokenizer& tok_;
    std::vector<int64_t> ids_;
    size_t prefix_ = 0;  // window start: context ids already emitted
    size_t read_ = 0;    // ids up to here are emitted
};

}  // namespace tb
