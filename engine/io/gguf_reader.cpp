#include "io/gguf_reader.h"

#include <cstring>

#include "core/error.h"
#include "export/ggml_quants.h"
#include "io/mapped_file.h"

namespace tb::io {
namespace {

class Cursor {
public:
    Cursor(const uint8_t* data, size_t size, const std::filesystem::path& path) : p_(data), end_(data + size), path_(path) {}
    template <class T>
    T get() {
        need(sizeof(T));
        T v;
        std::memcpy(&v, p_, sizeof(T));
        p_ += sizeof(T);
        return v;
    }
    std::string string() {
        const auto n = get<uint64_t>();
        need(n);
        std::string s(reinterpret_cast<const char*>(p_), n);
        p_ += n;
        return s;
    }
    void skip(uint64_t n) {
        need(n);
        p_ += n;
    }
    size_t offset(const uint8_t* base) const { return static_cast<size_t>(p_ - base); }
    uint64_t remaining() const { return static_cast<uint64_t>(end_ - p_); }

private:
    void need(uint64_t n) const {
        if (n > static_cast<uint64_t>(end_ - p_))
            throw FileError(path_.string() + " is not a complete GGUF file (it ends inside its header)",
                            "the file may be truncated: export it again");
    }
    const uint8_t* p_;
    const uint8_t* end_;
    std::filesystem::path path_;
};

size_t scalar_size(uint32_t type) {  // GGUF value types 0–7 and 10–12
    static const size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return type < 13 ? sizes[type] : 0;
}

std::string read_value(Cursor& c, uint32_t type, const std::filesystem::path& path, std::vector<std::string>* array = nullptr) {
    switch (type) {
        case 0: return std::to_string(c.get<uint8_t>());
        case 1: return std::to_string(c.get<int8_t>());
        case 2: return std::to_string(c.get<uint16_t>());
        case 3: return std::to_string(c.get<int16_t>());
        case 4: return std::to_string(c.get<uint32_t>());
        case 5: return std::to_string(c.get<int32_t>());
        case 6: {
            char b[32];
            std::snprintf(b, sizeof b, "%.9g", c.get<float>());
            return b;
        }
        case 7: return c.get<uint8_t>() ? "true" : "false";
        case 8: return c.string();
        case 9: {  // an array of scalars or strings (not of arrays)
            const auto elem = c.get<uint32_t>();
            const auto n = c.get<uint64_t>();
            const uint64_t smallest = elem == 8 ? 8 : scalar_size(elem);
            if (smallest == 0) throw FileError(path.string() + " has a GGUF array of type " + std::to_string(elem), "not a GGUF v3 file");
            if (n > c.remaining() / smallest)
                throw FileError(path.string() + " is not a complete GGUF file (an array runs past its end)", "export it again");
            if (array) array->reserve(n);
            for (uint64_t i = 0; i < n; ++i) {
                auto v = read_value(c, elem, path);
                if (array) array->push_back(std::move(v));
            }
            return {};
        }
        case 10: return std::to_string(c.get<uint64_t>());
        case 11: return std::to_string(c.get<int64_t>());
        case 12: {
            char b[32];
            std::snprintf(b, sizeof b, "%.17g", c.get<double>());
            return b;
        }
        default: throw FileError(path.string() + " has a GGUF value of unknown type " + std::to_string(type), "not a GGUF v3 file");
    }
}

}  // namespace

GgufReader::GgufReader(const std::filesystem::path& path) : file_(std::make_unique<MappedFile>(path)) {
    const uint8_t* base = file_->data();
    Cursor c(base, file_->size(), path);
    if (c.get<uint32_t>() != 0x46554747u) throw FileError(path.string() + " is not a GGUF file (no GGUF magic)", "");
    const auto version = c.get<uint32_t>();
    if (version != 3) throw FileError(path.string() + " is GGUF version " + std::to_string(version), "only GGUF v3 is read");
    const auto n_tensors = c.get<uint64_t>(), n_kv = c.get<uint64_t>();
    uint64_t alignment = 32;
    for (uint64_t i = 0; i < n_kv; ++i) {
        auto key = c.string();
        const auto type = c.get<uint32_t>();
        std::vector<std::string> elements;
        auto v = read_value(c, type, path, &elements);
        if (type == 9) arrays_[key] = std::move(elements);
        if (key == "general.alignment") alignment = type == 4 ? std::stoull(v) : 0;
        values_[key] = v;
    }
    std::vector<uint64_t> offsets;
    for (uint64_t i = 0; i < n_tensors; ++i) {
        Tensor t;
        t.name = c.string();
        const auto dims = c.get<uint32_t>();
        if (dims == 0 || dims > 4) throw FileError(path.string() + ": tensor " + t.name + " has " + std::to_string(dims) + " dimensions", "");
        t.shape.resize(dims);
        for (uint32_t d = 0; d < dims; ++d) {
            const auto n = c.get<uint64_t>();
            if (n > (uint64_t{1} << 40)) throw FileError(path.string() + ": tensor " + t.name + " has a dimension of " + std::to_string(n), "");
            t.shape[dims - 1 - d] = static_cast<int64_t>(n);
        }
        t.type = c.get<uint32_t>();
        offsets.push_back(c.get<uint64_t>());
        tensors_.push_back(std::move(t));
    }
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > 4096)
        throw FileError(path.string() + ": general.alignment " + std::to_string(alignment) + " is not a power of two", "");
    const uint64_t data_start = (c.offset(base) + alignment - 1) / alignment * alignment;
    const uint64_t size = file_->size();
    for (size_t i = 0; i < tensors_.size(); ++i) {
        auto& t = tensors_[i];
        const ggml::TypeTraits* traits = nullptr;
        try {
            traits = &ggml::traits(static_cast<ggml::Type>(t.type));
        } catch (const Error&) {
            throw FileError(path.string() + ": tensor " + t.name + " has ggml type " + std::to_string(t.type) + ", which Tunebench does not read",
                            "F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K are read");
        }
        const auto cols = t.shape.back();
        uint64_t rows = 1;
        for (size_t d = 0; d + 1 < t.shape.size(); ++d) {
            rows *= static_cast<uint64_t>(t.shape[d]);
            if (rows > (uint64_t{1} << 40)) throw FileError(path.string() + ": tensor " + t.name + " is too large", "");
        }
        if (cols % traits->block != 0)
            throw FileError(path.string() + ": tensor " + t.name + "'s rows are not whole " + traits->name + " blocks", "");
        t.nbytes = static_cast<uint64_t>(cols / traits->block) * static_cast<uint64_t>(traits->block_bytes) * rows;
        if (data_start > size || offsets[i] > size - data_start || t.nbytes > size - data_start - offsets[i]) {
            throw FileError(path.string() + ": tensor " + t.name + " runs past the end of the file",
                            "the file may be truncated: export it again");
        }
        t.data = base + data_start + offsets[i];
    }
}

GgufReader::~GgufReader() = default;

const GgufReader::Tensor* GgufReader::tensor(const std::string& name) const {
    for (const auto& t : tensors_)
        if (t.name == name) return &t;
    return nullptr;
}

const std::vector<std::string>* GgufReader::array(const std::string& key) const {
    auto it = arrays_.find(key);
    return it == arrays_.end() ? nullptr : &it->second;
}

std::string GgufReader::value(const std::string& key) const {
    auto it = values_.find(key);
    return it == values_.end() ? std::string() : it->second;
}

}  // namespace tb::io
