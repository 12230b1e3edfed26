// The vocabulary a GGUF file carries (tokenizer.ggml.*, FORMATS.md §1.10), written out as the
// tokenizer files that say the same — tokenizer.model (a SentencePiece BPE model proto) for
// `llama` vocabularies, ChatGLM's included, tokenizer.json for byte-level `gpt2` ones — so the
// usual loaders read a GGUF's tokenizer as llama.cpp does. No torch here.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tb {

namespace io {
class GgufReader;
}

// llama.cpp's byte-level pre-tokenizers Tunebench knows: the name a GGUF carries, the split regex
// llama.cpp applies for it, and whether a word found whole in the vocabulary skips the merges.
struct GgufPreTokenizer {
    std::string name, regex;
    bool ignore_merges = false;
};
const std::vector<GgufPreTokenizer>& gguf_pre_tokenizers();

// Writes tokenizer.model or tokenizer.json, and tokenizer_config.json (special tokens, add_bos_token,
// the chat template), into `folder`. UnsupportedError for a vocabulary kind or pre-tokenizer it
// cannot express; FileError naming the key for a damaged one.
void write_gguf_vocab(const io::GgufReader& reader, const std::filesystem::path& gguf, const std::filesystem::path& folder);

}  // namespace tb
