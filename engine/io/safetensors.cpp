// safetensors: validation rules follow the reference implementation (safetensors/src/tensor.rs):
// header length bounded and inside the file, JSON object, known dtype, byte size = numel × dtype
// size, offsets contiguous from 0 to the end of the buffer (no holes, no overlaps).
#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/json_text.h"

namespace tb::io {
namespace {

using json = nlohmann::json;
constexpr uint64_t kMaxHeader = 100'000'000;

struct DtypeInfo {
    const char* name;
    size_t size;
    int rank;  // order of the Rust enum, used by the writer
};
constexpr DtypeInfo kDtypes[] = {
    {"BOOL", 1, 0},    {"U8", 1, 4},  {"I8", 1, 5},   {"F8_E5M2", 1, 6}, {"F8_E4M3", 1, 7},
    {"I16", 2, 9},     {"U16", 2, 10}, {"F16", 2, 11}, {"BF16", 2, 12},  {"I32", 4, 13},
    {"U32", 4, 14},    {"F32", 4, 15}, {"C64", 8, 16}, {"F64", 8, 17},   {"I64", 8, 18},
    {"U64", 8, 19},
};

const DtypeInfo* find_dtype(const std::string& name) {
    for (const auto& d : kDtypes)
        if (name == d.name) return &d;
    return nullptr;
}

[[noreturn]] void bad(const std::filesystem::path& p, const std::string& what) {
    throw FileError(p.string() + " is not a valid safetensors file: " + what,
                    "the file may be truncated or corrupted; download or export it again");
}

}  // namespace

size_t dtype_size(const std::string& dtype) {
    auto* d = find_dtype(dtype);
    return d ? d->size : 0;
}
bool is_known_dtype(const std::string& dtype) { return find_dtype(dtype) != nullptr; }

SafetensorsReader::SafetensorsReader(const std::filesystem::path& path)
    : file_(std::make_shared<MappedFile>(path)) {
    const size_t size = file_->size();
    if (size < 8) bad(path, "file is shorter than the 8-byte header length");
    uint64_t n = 0;
    std::memcpy(&n, file_->data(), 8);  // little-endian on every supported platform
    if (n > kMaxHeader) bad(path, "header length " + std::to_string(n) + " exceeds 100 MB");
    if (8 + n > size) {
        bad(path, "header length " + std::to_string(n) + " runs past the end of the file (" +
                      std::to_string(size) + " bytes)");
    }
    const char* hp = reinterpret_cast<const char*>(file_->data() + 8);
    if (n == 0 || hp[0] != '{') bad(path, "header does not start with '{'");
    json header;
    try {
        header = parse_json(std::string(hp, n), path.string());
    } catch (const json::exception& e) {  // parse_error, or a number past double's range
        bad(path, std::string("header is not valid JSON (") + e.what() + ")");
    } catch (const FileError& e) {  // nested too deep, or a number out of range
        bad(path, std::string("header: ") + e.what());
    }
    if (!header.is_object()) bad(path, "header is not a JSON object");

    const uint8_t* buffer = file_->data() + 8 + n;
    const uint64_t buffer_size = size - 8 - n;
    struct Range {
        uint64_t begin, end;
        std::string name;
    };
    std::vector<Range> ranges;
    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& name = it.key();
        const json& e = it.value();
        if (name == "__metadata__") {
            if (!e.is_object()) bad(path, "__metadata__ is not an object");
            for (auto m = e.begin(); m != e.end(); ++m) {
                if (!m.value().is_string()) bad(path, "__metadata__." + m.key() + " is not a string");
                metadata_[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") ||
            !e.contains("data_offsets")) {
            bad(path, "entry '" + name + "' lacks dtype, shape or data_offsets");
        }
        if (!e["dtype"].is_string()) bad(path, "entry '" + name + "' has a non-string dtype");
        TensorView v;
        v.dtype = e["dtype"].get<std::string>();
        const DtypeInfo* di = find_dtype(v.dtype);
        if (!di) {
            bad(path, "tensor '" + name + "' has unknown dtype '" + v.dtype +
                          "' (expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, …)");
        }
        if (!e["shape"].is_array()) bad(path, "tensor '" + name + "' shape is not an array");
        uint64_t numel = 1;
        for (const auto& d : e["shape"]) {
            if (!d.is_number_unsigned()) bad(path, "tensor '" + name + "' has a negative or non-integer dimension");
            uint64_t dim = d.get<uint64_t>();
            if (dim != 0 && numel > UINT64_MAX / dim) bad(path, "tensor '" + name + "' shape overflows");
            numel *= dim;
            v.shape.push_back(static_cast<int64_t>(dim));
        }
        const json& off = e["data_offsets"];
        if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
            !off[1].is_number_unsigned()) {
            bad(path, "tensor '" + name + "' data_offsets is not [begin, end]");
        }
        uint64_t b = off[0].get<uint64_t>(), en = off[1].get<uint64_t>();
        if (en < b) bad(path, "tensor '" + name + "' has end offset before begin offset");
        if (en > buffer_size) {
            bad(path, "tensor '" + name + "' byte range [" + std::to_string(b) + ", " +
                          std::to_string(en) + ") is outside the data buffer of " +
                          std::to_string(buffer_size) + " bytes");
        }
        if (en - b != numel * di->size) {
            bad(path, "tensor '" + name + "' occupies " + std::to_string(en - b) +
                          " bytes but its shape and dtype need " +
                          std::to_string(numel * di->size));
        }
        v.data = buffer + b;
        v.nbytes = en - b;
        ranges.push_back({b, en, name});
        tensors_.emplace(name, std::move(v));
    }
    std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t expected = 0;
    for (const auto& r : ranges) {
        if (r.begin < expected) bad(path, "tensor '" + r.name + "' overlaps another tensor");
        if (r.begin > expected) bad(path, "there is a gap in the data buffer before tensor '" + r.name + "'");
        expected = r.end;
        names_.push_back(r.name);
    }
    if (expected != buffer_size) {
        bad(path, "data buffer has " + std::to_string(buffer_size) + " bytes but the tensors cover " +
                      std::to_string(expected));
    }
}

const TensorView& SafetensorsReader::tensor(const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) {
        throw FileError("tensor '" + name + "' is not in " + path().string());
    }
    return it->second;
}

namespace {

// Sorts into the reference writer's order and returns the padded header JSON.
std::string prepare_header(std::vector<TensorToWrite>& tensors,
                           const std::map<std::string, std::string>& metadata) {
    for (const auto& t : tensors) {
        const DtypeInfo* di = find_dtype(t.dtype);
        if (!di) throw UnsupportedError("cannot write dtype '" + t.dtype + "' for tensor " + t.name);
        uint64_t numel = 1;
        for (auto d : t.shape) numel *= static_cast<uint64_t>(d);
        if (numel * di->size != t.nbytes) {
            throw Error("internal: tensor " + t.name + " has " + std::to_string(t.nbytes) +
                        " bytes, its shape needs " + std::to_string(numel * di->size));
        }
    }
    std::stable_sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) {
        int ra = find_dtype(a.dtype)->rank, rb = find_dtype(b.dtype)->rank;
        return ra != rb ? ra > rb : a.name < b.name;
    });
    // ordered_json keeps __metadata__ first and the tensors in writing order.
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const auto& t : tensors) {
        header[t.name] = {{"dtype", t.dtype},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + t.nbytes}}};
        offset += t.nbytes;
    }
    std::string h = header.dump();
    while (h.size() % 8 != 0) h.push_back(' ');
    uint64_t n = h.size();
    return std::string(reinterpret_cast<const char*>(&n), 8) + h;
}

}  // namespace

std::string safetensors_bytes(std::vector<TensorToWrite> tensors,
                              const std::map<std::string, std::string>& metadata) {
    std::string out = prepare_header(tensors, metadata);
    for (const auto& t : tensors) out.append(static_cast<const char*>(t.data), t.nbytes);
    return out;
}

void write_safetensors(const std::filesystem::path& path, std::vector<TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata) {
    const std::string header = prepare_header(tensors, metadata);
    // Streamed: an export shard can be gigabytes.
    write_atomically(path, [&](std::ostream& out) {
        out.write(header.data(), header.size());
        for (const auto& t : tensors) out.write(static_cast<const char*>(t.data), t.nbytes);
    });
}

}  // namespace tb::io
