#include "io/gguf_writer.h"

#include <algorithm>
#include <cstring>
#include <ostream>

#include "core/error.h"
#include "io/atomic_file.h"

namespace tb::io {
namespace {

// GGUF value types (FORMATS.md §1.2)
constexpr uint32_t kInt32 = 5, kUint32 = 4, kFloat32 = 6, kBool = 7, kString = 8, kArray = 9;

template <class T>
void put(std::string& out, T v) {  // little-endian, as every machine this builds for
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.append(b, sizeof(T));
}
void put_string(std::string& out, const std::string& s) {
    put<uint64_t>(out, s.size());
    out += s;
}
uint64_t padded(uint64_t n) { return (n + GgufWriter::kAlignment - 1) / GgufWriter::kAlignment * GgufWriter::kAlignment; }

}  // namespace

void GgufWriter::add_kv(const std::string& key, uint32_t type, std::string encoded) {
    if (std::find(keys_.begin(), keys_.end(), key) != keys_.end())
        throw ConfigError("GGUF metadata key '" + key + "' is set twice", "each key may appear once (llama.cpp refuses duplicates)");
    keys_.push_back(key);
    put_string(kv_bytes_, key);
    put<uint32_t>(kv_bytes_, type);
    kv_bytes_ += encoded;
}

void GgufWriter::add_u32(const std::string& key, uint32_t v) {
    std::string e;
    put(e, v);
    add_kv(key, kUint32, e);
}
void GgufWriter::add_i32(const std::string& key, int32_t v) {
    std::string e;
    put(e, v);
    add_kv(key, kInt32, e);
}
void GgufWriter::add_f32(const std::string& key, float v) {
    std::string e;
    put(e, v);
    add_kv(key, kFloat32, e);
}
void GgufWriter::add_bool(const std::string& key, bool v) {
    std::string e;
    put<uint8_t>(e, v ? 1 : 0);
    add_kv(key, kBool, e);
}
void GgufWriter::add_string(const std::string& key, const std::string& v) {
    std::string e;
    put_string(e, v);
    add_kv(key, kString, e);
}
void GgufWriter::add_strings(const std::string& key, const std::vector<std::string>& values) {
    if (values.empty()) throw ConfigError("GGUF metadata array '" + key + "' is empty", "llama.cpp and gguf-py refuse empty arrays");
    std::string e;
    put(e, kString);
    put<uint64_t>(e, values.size());
    for (const auto& v : values) put_string(e, v);
    add_kv(key, kArray, e);
}
void GgufWriter::add_f32s(const std::string& key, const std::vector<float>& values) {
    if (values.empty()) throw ConfigError("GGUF metadata array '" + key + "' is empty", "llama.cpp and gguf-py refuse empty arrays");
    std::string e;
    put(e, kFloat32);
    put<uint64_t>(e, values.size());
    for (float v : values) put(e, v);
    add_kv(key, kArray, e);
}
void GgufWriter::add_i32s(const std::string& key, const std::vector<int32_t>& values) {
    if (values.empty()) throw ConfigError("GGUF metadata array '" + key + "' is empty", "llama.cpp and gguf-py refuse empty arrays");
    std::string e;
    put(e, kInt32);
    put<uint64_t>(e, values.size());
    for (int32_t v : values) put(e, v);
    add_kv(key, kArray, e);
}

void GgufWriter::add_tensor(const std::string& name, const std::vector<int64_t>& shape, uint32_t type, uint64_t nbytes,
                            std::function<std::vector<uint8_t>()> bytes) {
    if (name.size() >= 64) throw ConfigError("GGUF tensor name '" + name + "' is longer than 63 bytes", "ggml's names hold 63");
    if (shape.empty() || shape.size() > 4) throw ConfigError("GGUF tensor '" + name + "' has " + std::to_string(shape.size()) + " dimensions", "1 to 4");
    for (const auto& t : tensors_)
        if (t.name == name) throw ConfigError("GGUF tensor '" + name + "' is added twice", "tensor names must be unique");
    tensors_.push_back({name, shape, type, nbytes, std::move(bytes)});
}

void GgufWriter::write(const std::filesystem::path& path) const {
    std::string head;
    head += "GGUF";
    put<uint32_t>(head, 3);
    put<uint64_t>(head, tensors_.size());
    put<uint64_t>(head, keys_.size());
    head += kv_bytes_;
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
        put_string(head, t.name);
        put<uint32_t>(head, static_cast<uint32_t>(t.shape.size()));
        for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) put<uint64_t>(head, static_cast<uint64_t>(*it));
        put<uint32_t>(head, t.type);
        put<uint64_t>(head, offset);
        offset += padded(t.nbytes);
    }
    head.resize(padded(head.size()), '\0');
    write_atomically(path, [&](std::ostream& out) {
        out.write(head.data(), static_cast<std::streamsize>(head.size()));
        const std::string zeros(kAlignment, '\0');
        for (const auto& t : tensors_) {
            const auto data = t.bytes();
            if (data.size() != t.nbytes) {
                throw Error("GGUF tensor '" + t.name + "' produced " + std::to_string(data.size()) + " bytes, expected " +
                            std::to_string(t.nbytes));
            }
            out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
            out.write(zeros.data(), static_cast<std::streamsize>(padded(t.nbytes) - t.nbytes));
        }
    });
}

}  // namespace tb::io
