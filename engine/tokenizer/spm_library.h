// C++ face of libtunebench_spm (see spm_shim.cpp for why sentencepiece lives behind dlopen).
// Not a tokenizer: SentencePieceTokenizer adds ChatGLM specials and HF conventions on top.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tb::spm {

class Processor {
public:
    explicit Processor(const std::filesystem::path& model);  // FileError when it cannot load
    ~Processor();
    Processor(const Processor&) = delete;
    Processor& operator=(const Processor&) = delete;

    int piece_size() const;
    std::vector<int> encode(const std::string& text) const;
    std::string decode(const std::vector<int>& ids) const;
    int piece_to_id(const std::string& piece) const;
    std::string id_to_piece(int id) const;
    bool is_control(int id) const;
    bool is_unknown(int id) const;
    bool is_byte(int id) const;
    bool is_unused(int id) const;
    float score(int id) const;  // the piece's log-probability score
    int bos_id() const;
    int eos_id() const;
    int unk_id() const;
    int pad_id() const;

private:
    void* handle_ = nullptr;
};

// SentencePieceTrainer::Train with a flag string; Error with sentencepiece's message on failure.
void train(const std::string& flags);

}  // namespace tb::spm
