// Tokenizer loader and the shared helpers (prefix ids, streaming detokenisation).
#include "tokenizer/tokenizer.h"
#include "io/json_text.h"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <atomic>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/gguf_reader.h"
#include "model/gguf_layout.h"
#include "model/model_config.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/ice_text_tokenizer.h"
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

static std::unique_ptr<Tokenizer> load_tokenizer_files(const fs::path& folder, const ModelConfig* config);

// A GGUF model's vocabulary, written out as tokenizer files into a private temporary folder
// and read from there (tokenizer/gguf_vocab.h).
static std::unique_ptr<Tokenizer> load_gguf_tokenizer(const fs::path& gguf, const ModelConfig* config) {
    static std::atomic<int> serial{0};
    const fs::path tmp = fs::temp_directory_path() /
                         ("tunebench-gguf-vocab-" + std::to_string(::getpid()) + "-" + std::to_string(serial++));
    fs::create_directories(tmp);
    struct Cleanup {
        fs::path dir;
        ~Cleanup() {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } cleanup{tmp};
    write_gguf_vocab(io::GgufReader(gguf), gguf, tmp);
    return load_tokenizer_files(tmp, config);
}

// A tokenizer with ids past the model's embedding rows belongs to another model: refused before
// any text is generated or trained on (a smaller one is normal: vocabularies are padded).
static std::unique_ptr<Tokenizer> fitting(std::unique_ptr<Tokenizer> tok, const fs::path& folder, const ModelConfig* config) {
    if (config && tok->vocab_size() > config->vocab_size)
        throw ConfigError("the tokenizer in " + folder.string() + " has " + std::to_string(tok->vocab_size()) +
                              " tokens, more than the model's vocabulary of " + std::to_string(config->vocab_size) +
                              " (config.json vocab_size)",
                          "the tokenizer belongs to another model: copy the tokenizer files of this model's release");
    return tok;
}

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& folder, const ModelConfig* config) {
    try {
        const bool files = fs::exists(folder / "tokenizer.json") || fs::exists(folder / "tokenizer.model") ||
                           fs::exists(folder / "vocab.json") || fs::exists(folder / "ice_text.model");
        if (!files)
            if (const auto gguf = gguf_model_file(folder)) return fitting(load_gguf_tokenizer(*gguf, config), folder, config);
        return fitting(load_tokenizer_files(folder, config), folder, config);
    } catch (const nlohmann::json::exception& e) {  // a key of the wrong type, e.g. "add_bos_token": "yes"
        throw FileError(folder.string() + ": a tokenizer file has an unexpected value (" + e.what() + ")",
                        "check tokenizer_config.json, or copy the tokenizer files again from the base model");
    }
}

static std::unique_ptr<Tokenizer> load_tokenizer_files(const fs::path& folder, const ModelConfig* config) {
    nlohmann::json tcfg = nlohmann::json::object();
    if (fs::exists(folder / "tokenizer_config.json")) {
        try {
            tcfg = io::parse_json(io::read_file(folder / "tokenizer_config.json"), (folder / "tokenizer_config.json").string());
        } catch (const nlohmann::json::parse_error& e) {
            throw FileError((folder / "tokenizer_config.json").string() + " is not valid JSON: " + e.what());
        }
    }
    const std::string cls = tcfg.value("tokenizer_class", std::string());
    // LLaMA-2 folders hold both a converted tokenizer.json and the tokenizer.model it came from.
    const bool sentencepiece_json = fs::exists(folder / "tokenizer.json") && fs::exists(folder / "tokenizer.model") &&
                                    BpeTokenizer::is_sentencepiece_layout(folder / "tokenizer.json");
    if (fs::exists(folder / "ice_text.model")) return std::make_unique<IceTextTokenizer>(folder / "ice_text.model", tcfg);
    if (config && config->arch == Arch::ChatGLM6B)
        throw FileError("no ice_text.model in " + folder.string() + ": ChatGLM-6B's tokenizer is that file",
                        "copy ice_text.model (and tokenizer_config.json) from the THUDM/chatglm-6b release");
    if (fs::exists(folder / "tokenizer.json") && !sentencepiece_json) return BpeTokenizer::from_tokenizer_json(folder, tcfg);
    if (fs::exists(folder / "vocab.json") && fs::exists(folder / "merges.txt"))
        return BpeTokenizer::from_vocab_merges(folder, tcfg);
    // GLM-4's remote code (glm-4-9b-chat): tiktoken ranks in tokenizer.model
    if (fs::exists(folder / "tokenizer.model") && BpeTokenizer::is_tiktoken_file(folder / "tokenizer.model"))
        return BpeTokenizer::from_tiktoken(folder, tcfg);
    if (fs::exists(folder / "tokenizer.model")) {
        const bool glm = cls == "ChatGLMTokenizer" || (config && config->arch == Arch::ChatGLM);
        // ChatGLM2's tokenizer stops at eop; ChatGLM3's adds the role tokens (MODELS.md §2).
        const bool v2 = tcfg.value("name_or_path", std::string()).find("chatglm2") != std::string::npos ||
                        (config && config->name_or_path.find("chatglm2") != std::string::npos);
        return std::make_unique<SentencePieceTokenizer>(folder / "tokenizer.model", tcfg, glm ? (v2 ? 2 : 3) : 0);
    }
    throw FileError("no tokenizer in " + folder.string() +
                        ": expected tokenizer.json, tokenizer.model, ice_text.model, or vocab.json + merges.txt",
                    "copy the tokenizer files from the base model into this folder");
}

std::string StreamDecoder::decode_from(size_t begin, size_t end) const {
    return tok_.decode(std::vector<int64_t>(ids_.begin() + begin, ids_.begin() + end));
}

std::string StreamDecoder::push(int64_t id) {
    ids_.push_back(id);
    const std::string before = decode_from(prefix_, read_);
    const std::string now = decode_from(prefix_, ids_.size());
    // Hold back a trailing replacement char (the next id may complete the UTF-8 sequence) and
    // text that is not a continuation of what was emitted (SentencePiece spacing at the edge).
    if (now.size() <= before.size() || now.compare(0, before.size(), before) != 0) return {};
    if (now.size() >= 3 && now.compare(now.size() - 3, 3, "\xEF\xBF\xBD") == 0) return {};
    prefix_ = read_;
    read_ = ids_.size();
    return now.substr(before.size());
}

std::string StreamDecoder::flush() {
    const std::string before = decode_from(prefix_, read_);
    const std::string now = decode_from(prefix_, ids_.size());
    read_ = ids_.size();
    if (now.size() > before.size() && now.compare(0, before.size(), before) == 0) return now.substr(before.size());
    return {};
}

}  // namespace tb
