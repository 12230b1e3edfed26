// libtunebench_spm: a C API over libsentencepiece, built as its own shared library and loaded
// with dlopen(RTLD_LOCAL | RTLD_DEEPBIND) by spm_library.cpp. Why: Debian's libsentencepiece
// exports a bundled protobuf-lite 3.14 that clashes with LibTorch's libprotobuf 3.21 when both
// sit in the global symbol scope (crash at start-up). Only C types cross this boundary.
// Caveat: where the toolchain links libstdc++ statically into the executable (the GPU machine's
// g++ 13 in /opt/gcc does), the executable's std::cerr is the constructed one and the copy in
// libstdc++.so that DEEPBIND binds sentencepiece to never is: anything sentencepiece logs then
// crashes. Loading and encoding log nothing; training logs its command line (0.2.0), which is why
// the demo ships its tokenizer (demo_model.h) instead of training it at run time.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {
void copy_out(const std::string& s, char* out, int cap) {
    if (!out || cap <= 0) return;
    size_t n = std::min(s.size(), static_cast<size_t>(cap - 1));
    std::memcpy(out, s.data(), n);
    out[n] = '\0';
}
}  // namespace

extern "C" {

// No exception may cross this C boundary: a damaged model makes SentencePiece's trie builder
// (darts-clone) throw from inside Load.
void* tb_spm_load(const char* path, char* err, int errlen) {
    auto p = std::make_unique<sentencepiece::SentencePieceProcessor>();
    try {
        auto status = p->Load(path);
        if (!status.ok()) {
            copy_out(status.ToString(), err, errlen);
            return nullptr;
        }
    } catch (const std::exception& e) {
        copy_out(std::string("the model is damaged (") + e.what() + ")", err, errlen);
        return nullptr;
    } catch (...) {
        copy_out("the model is damaged", err, errlen);
        return nullptr;
    }
    return p.release();
}

void tb_spm_free(void* h) { delete static_cast<sentencepiece::SentencePieceProcessor*>(h); }

int tb_spm_piece_size(void* h) { return static_cast<sentencepiece::SentencePieceProcessor*>(h)->GetPieceSize(); }

// Returns the id count; writes at most cap ids.
int tb_spm_encode(void* h, const char* text, size_t len, int* out, int cap) {
    std::vector<int> ids;
    static_cast<sentencepiece::SentencePieceProcessor*>(h)->Encode(std::string(text, len), &ids);
    for (int i = 0; i < static_cast<int>(ids.size()) && i < cap; ++i) out[i] = ids[i];
    return static_cast<int>(ids.size());
}

// Returns the byte length of the text; writes at most cap bytes (no terminator).
int tb_spm_decode(void* h, const int* ids, int n, char* out, int cap) {
    std::string s;
    static_cast<sentencepiece::SentencePieceProcessor*>(h)->Decode(std::vector<int>(ids, ids + n), &s);
    if (static_cast<int>(s.size()) <= cap) std::memcpy(out, s.data(), s.size());
    return static_cast<int>(s.size());
}

int tb_spm_piece_to_id(void* h, const char* piece) {
    return static_cast<sentencepiece::SentencePieceProcessor*>(h)->PieceToId(piece);
}

int tb_spm_id_to_piece(void* h, int id, char* out, int cap) {
    std::string s = static_cast<sentencepiece::SentencePieceProcessor*>(h)->IdToPiece(id);
    copy_out(s, out, cap);
    return static_cast<int>(s.size());
}

int tb_spm_is_control(void* h, int id) { return static_cast<sentencepiece::SentencePieceProcessor*>(h)->IsControl(id); }
int tb_spm_is_unknown(void* h, int id) { return static_cast<sentencepiece::SentencePieceProcessor*>(h)->IsUnknown(id); }
int tb_spm_is_byte(void* h, int id) { return static_cast<sentencepiece::SentencePieceProcessor*>(h)->IsByte(id); }
int tb_spm_is_unused(void* h, int id) { return static_cast<sentencepiece::SentencePieceProcessor*>(h)->IsUnused(id); }
float tb_spm_score(void* h, int id) { return static_cast<sentencepiece::SentencePieceProcessor*>(h)->GetScore(id); }

// which: 0 bos, 1 eos, 2 unk, 3 pad
int tb_spm_special(void* h, int which) {
    auto* p = static_cast<sentencepiece::SentencePieceProcessor*>(h);
    switch (which) {
        case 0: return p->bos_id();
        case 1: return p->eos_id();
        case 2: return p->unk_id();
        default: return p->pad_id();
    }
}

int tb_spm_train(const char* args, char* err, int errlen) {
    auto status = sentencepiece::SentencePieceTrainer::Train(args);
    if (!status.ok()) copy_out(status.ToString(), err, errlen);
    return status.ok() ? 0 : 1;
}

}  // extern "C"
