// Tokenizer loader and the shared helpers (prefix ids, streaming detokenisation).
#include "tokenizer/tokenizer.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"
#include "model/model_config.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/sentencepiece_tokenizer.h"

namespace tb {
namespace fs = std::filesystem;

std::vector<int64_t> Tokenizer::prefix_ids() const {
    if (add_bos && bos_id) return {*bos_id};
    return {};
}

std::vector<int64_t> Tokenizer::encode_with_prefix(const std::string& text) const {
    auto ids = prefix_ids();
    auto body = encode(text);
    ids.insert(ids.end(), body.begin(), body.end());
    return ids;
}

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& folder, const ModelConfig* config) {
    nlohmann::json tcfg = nlohmann::json::object();
    if (fs::exists(folder / "tokenizer_config.json")) {
        try {
            tcfg = nlohmann::json::parse(io::read_file(folder / "tokenizer_config.json"));
        } catch (const nlohmann::json::parse_error& e) {
            throw FileError((folder / "tokenizer_config.json").string() + " is not valid JSON: " + e.what());
        }
    }
    const std::string cls = tcfg.value("tokenizer_class", std::string());
    if (fs::exists(folder / "tokenizer.json")) return BpeTokenizer::from_tokenizer_json(folder, tcfg);
    if (fs::exists(folder / "vocab.json") && fs::exists(folder / "merges.txt"))
        return BpeTokenizer::from_vocab_merges(folder, tcfg);
    if (fs::exists(folder / "tokenizer.model")) {
        const bool glm = cls == "ChatGLMTokenizer" || (config && config->arch == Arch::ChatGLM);
        return std::make_unique<SentencePieceTokenizer>(folder / "tokenizer.model", tcfg, glm);
    }
    throw FileError("no tokenizer in " + folder.string() +
                        ": expected tokenizer.json, tokenizer.model, or vocab.json + merges.txt",
                    "copy the tokenizer files from the base model into this folder");
}

std::string StreamDecoder::push(int64_t id) {
    ids_.push_back(id);
    std::string full = tok_.decode(ids_);
    // Hold back a trailing replacement char / incomplete UTF-8: the next token may complete it.
    if (full.size() >= 3 && full.compare(full.size() - 3, 3, "\xEF\xBF\xBD") == 0) return {};
    if (full.size() < emitted_.size() || full.compare(0, emitted_.size(), emitted_) != 0) {
        // Decoding is not prefix-stable here (rare SentencePiece spacing): emit nothing new.
        return {};
    }
    std::string delta = full.substr(emitted_.size());
    emitted_ = std::move(full);
    return delta;
}

std::string StreamDecoder::flush() {
    std::string full = tok_.decode(ids_);
    if (full.size() > emitted_.size() && full.compare(0, emitted_.size(), emitted_) == 0) {
        std::string delta = full.substr(emitted_.size());
        emitted_ = std::move(full);
        return delta;
    }
    return {};
}

}  // namespace tb
