// dlopen of libtunebench_spm and typed wrappers over its C functions.
#include "tokenizer/spm_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "core/error.h"
#include "core/install_paths.h"

#ifndef TB_SPM_SHIM_BUILD_PATH
#define TB_SPM_SHIM_BUILD_PATH ""
#endif
#ifndef TB_SPM_SHIM_INSTALL_PATH
#define TB_SPM_SHIM_INSTALL_PATH ""
#endif

namespace tb::spm {
namespace {

struct Api {
    void* (*load)(const char*, char*, int);
    void (*free_)(void*);
    int (*piece_size)(void*);
    int (*encode)(void*, const char*, size_t, int*, int);
    int (*decode)(void*, const int*, int, char*, int);
    int (*piece_to_id)(void*, const char*);
    int (*id_to_piece)(void*, int, char*, int);
    int (*is_control)(void*, int);
    int (*is_unknown)(void*, int);
    int (*is_byte)(void*, int);
    int (*is_unused)(void*, int);
    float (*score)(void*, int);
    int (*special)(void*, int);
    int (*train)(const char*, char*, int);
};

#ifdef TB_SPM_LINKED
// The fuzzers link the bridge in (sanitizers refuse RTLD_DEEPBIND; nothing else is loaded there).
extern "C" {
void* tb_spm_load(const char*, char*, int);
void tb_spm_free(void*);
int tb_spm_piece_size(void*);
int tb_spm_encode(void*, const char*, size_t, int*, int);
int tb_spm_decode(void*, const int*, int, char*, int);
int tb_spm_piece_to_id(void*, const char*);
int tb_spm_id_to_piece(void*, int, char*, int);
int tb_spm_is_control(void*, int);
int tb_spm_is_unknown(void*, int);
int tb_spm_is_byte(void*, int);
int tb_spm_is_unused(void*, int);
float tb_spm_score(void*, int);
int tb_spm_special(void*, int);
int tb_spm_train(const char*, char*, int);
}
const Api& api() {
    static const Api a{tb_spm_load,        tb_spm_free,       tb_spm_piece_size, tb_spm_encode,
                       tb_spm_decode,      tb_spm_piece_to_id, tb_spm_id_to_piece, tb_spm_is_control,
                       tb_spm_is_unknown,  tb_spm_is_byte,    tb_spm_is_unused,  tb_spm_score,
                       tb_spm_special,     tb_spm_train};
    return a;
}
#else
const Api& api() {
    static std::once_flag once;
    static Api a{};
    std::call_once(once, [] {
        std::vector<std::filesystem::path> candidates;
        if (const char* env = std::getenv("TUNEBENCH_SPM_SHIM")) candidates.emplace_back(env);
        auto dir = executable_dir();
        candidates.push_back(dir / "libtunebench_spm.so");
        candidates.push_back(dir / "../lib/libtunebench_spm.so");
        candidates.push_back(dir / "../lib/tunebench/libtunebench_spm.so");
        if (*TB_SPM_SHIM_INSTALL_PATH) candidates.emplace_back(TB_SPM_SHIM_INSTALL_PATH);
        if (*TB_SPM_SHIM_BUILD_PATH) candidates.emplace_back(TB_SPM_SHIM_BUILD_PATH);
        void* h = nullptr;
        std::string tried;
        for (const auto& c : candidates) {
            if (!std::filesystem::exists(c)) {
                tried += " " + c.string();
                continue;
            }
            h = ::dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
            if (h) break;
            tried += " " + c.string() + " (" + ::dlerror() + ")";
        }
        if (!h) return;
        auto sym = [&](const char* name) { return ::dlsym(h, name); };
        a.load = reinterpret_cast<decltype(a.load)>(sym("tb_spm_load"));
        a.free_ = reinterpret_cast<decltype(a.free_)>(sym("tb_spm_free"));
        a.piece_size = reinterpret_cast<decltype(a.piece_size)>(sym("tb_spm_piece_size"));
        a.encode = reinterpret_cast<decltype(a.encode)>(sym("tb_spm_encode"));
        a.decode = reinterpret_cast<decltype(a.decode)>(sym("tb_spm_decode"));
        a.piece_to_id = reinterpret_cast<decltype(a.piece_to_id)>(sym("tb_spm_piece_to_id"));
        a.id_to_piece = reinterpret_cast<decltype(a.id_to_piece)>(sym("tb_spm_id_to_piece"));
        a.is_control = reinterpret_cast<decltype(a.is_control)>(sym("tb_spm_is_control"));
        a.is_unknown = reinterpret_cast<decltype(a.is_unknown)>(sym("tb_spm_is_unknown"));
        a.is_byte = reinterpret_cast<decltype(a.is_byte)>(sym("tb_spm_is_byte"));
        a.is_unused = reinterpret_cast<decltype(a.is_unused)>(sym("tb_spm_is_unused"));
        a.score = reinterpret_cast<decltype(a.score)>(sym("tb_spm_score"));
        a.special = reinterpret_cast<decltype(a.special)>(sym("tb_spm_special"));
        a.train = reinterpret_cast<decltype(a.train)>(sym("tb_spm_train"));
    });
    if (!a.load) {
        throw Error("libtunebench_spm.so (the SentencePiece bridge) was not found next to the program",
                    "reinstall Tunebench, or set TUNEBENCH_SPM_SHIM to the library's path");
    }
    return a;
}
#endif

}  // namespace

Processor::Processor(const std::filesystem::path& model) {
    char err[512] = {0};
    handle_ = api().load(model.c_str(), err, sizeof err);
    if (!handle_) {
        throw FileError("cannot load SentencePiece model " + model.string() + ": " + err,
                        "the file may be a Git LFS pointer or truncated; download it again");
    }
}

Processor::~Processor() {
    if (handle_) api().free_(handle_);
}

int Processor::piece_size() const { return api().piece_size(handle_); }

std::vector<int> Processor::encode(const std::string& text) const {
    std::vector<int> ids(text.size() + 8);
    int n = api().encode(handle_, text.data(), text.size(), ids.data(), static_cast<int>(ids.size()));
    if (n > static_cast<int>(ids.size())) {
        ids.resize(n);
        n = api().encode(handle_, text.data(), text.size(), ids.data(), n);
    }
    ids.resize(n);
    return ids;
}

std::string Processor::decode(const std::vector<int>& ids) const {
    std::string out(ids.size() * 8 + 16, '\0');
    int n = api().decode(handle_, ids.data(), static_cast<int>(ids.size()), out.data(), static_cast<int>(out.size()));
    if (n > static_cast<int>(out.size())) {
        out.resize(n);
        api().decode(handle_, ids.data(), static_cast<int>(ids.size()), out.data(), n);
    }
    out.resize(n);
    return out;
}

int Processor::piece_to_id(const std::string& piece) const { return api().piece_to_id(handle_, piece.c_str()); }

std::string Processor::id_to_piece(int id) const {
    char buf[1024];
    api().id_to_piece(handle_, id, buf, sizeof buf);
    return buf;
}

bool Processor::is_control(int id) const { return api().is_control(handle_, id) != 0; }
bool Processor::is_byte(int id) const { return api().is_byte(handle_, id) != 0; }
bool Processor::is_unused(int id) const { return api().is_unused(handle_, id) != 0; }
float Processor::score(int id) const { return api().score(handle_, id); }
bool Processor::is_unknown(int id) const { return api().is_unknown(handle_, id) != 0; }
int Processor::bos_id() const { return api().special(handle_, 0); }
int Processor::eos_id() const { return api().special(handle_, 1); }
int Processor::unk_id() const { return api().special(handle_, 2); }
int Processor::pad_id() const { return api().special(handle_, 3); }

void train(const std::string& flags) {
    char err[1024] = {0};
    if (api().train(flags.c_str(), err, sizeof err) != 0) throw Error(std::string("SentencePiece training failed: ") + err);
}

}  // namespace tb::spm
