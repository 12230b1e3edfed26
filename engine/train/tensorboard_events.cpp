#include "train/tensorboard_events.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <ctime>

#include "core/error.h"
#include "core/log.h"
#include "io/atomic_file.h"

namespace tb {
namespace fs = std::filesystem;

namespace {

const std::array<uint32_t, 256>& crc_table() {
    static const std::array<uint32_t, 256> t = [] {
        std::array<uint32_t, 256> r{};
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            r[i] = c;
        }
        return r;
    }();
    return t;
}

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
    return buf;
}

// Protobuf wire encoding: a key is (field << 3) | wire type; 0 varint, 1 fixed 64, 2 bytes, 5 fixed 32.
void put_varint(std::string& s, uint64_t v) {
    while (v >= 0x80) {
        s += static_cast<char>((v & 0x7F) | 0x80);
        v >>= 7;
    }
    s += static_cast<char>(v);
}
template <typename T>
void put_fixed(std::string& s, int field, int wire, T v) {
    put_varint(s, static_cast<uint64_t>(field) << 3 | wire);
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));  // little-endian hosts only, as the rest of the file formats here
    s.append(b, sizeof(T));
}
void put_bytes(std::string& s, int field, std::string_view bytes) {
    put_varint(s, static_cast<uint64_t>(field) << 3 | 2);
    put_varint(s, bytes.size());
    s.append(bytes);
}
void put_int(std::string& s, int field, int64_t v) {
    put_varint(s, static_cast<uint64_t>(field) << 3);
    put_varint(s, static_cast<uint64_t>(v));
}

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Event{wall_time = 1, step = 2, file_version = 3, summary = 5}
std::string event_with(int64_t step, int field, std::string_view payload) {
    std::string e;
    put_fixed(e, 1, 1, now_seconds());
    if (step != 0) put_int(e, 2, step);
    put_bytes(e, field, payload);
    return e;
}

uint64_t read_u64(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
uint32_t read_u32(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

bool read_varint(std::string_view s, size_t& at, uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && at < s.size(); shift += 7) {
        const auto b = static_cast<uint8_t>(s[at++]);
        v |= static_cast<uint64_t>(b & 0x7F) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

// The step of a serialized Event (0 when absent, as proto3 leaves it out); false if malformed.
bool event_step(std::string_view e, int64_t& step) {
    step = 0;
    size_t at = 0;
    while (at < e.size()) {
        uint64_t key, v;
        if (!read_varint(e, at, key)) return false;
        switch (key & 7) {
            case 0:
                if (!read_varint(e, at, v)) return false;
                if (key >> 3 == 2) step = static_cast<int64_t>(v);
                break;
            case 1: at += 8; break;
            case 5: at += 4; break;
            case 2:
                if (!read_varint(e, at, v) || v > e.size() - at) return false;
                at += v;
                break;
            default: return false;
        }
    }
    return at == e.size();
}

// The whole records of `bytes` whose step is ≤ keep, in order; stops at a torn or damaged record
// (a writer killed mid-record leaves one at the end).
std::string records_through(const std::string& bytes, int64_t keep, const fs::path& file) {
    std::string kept;
    size_t at = 0;
    while (at < bytes.size()) {
        const size_t left = bytes.size() - at;
        const char* p = bytes.data() + at;
        bool whole = left >= 12 && read_u32(p + 8) == masked_crc32c({p, 8});
        const uint64_t len = whole ? read_u64(p) : 0;
        whole = whole && len <= left - 16 && read_u32(p + 12 + len) == masked_crc32c({p + 12, len});
        int64_t step = 0;
        if (!whole || !event_step({p + 12, len}, step)) {
            log::warn("TensorBoard events ", file.string(), ": the record at byte ", at,
                      " is incomplete or damaged (a run stopped while writing it); it and what follows are dropped");
            break;
        }
        if (step <= keep) kept.append(p, 16 + len);
        at += 16 + len;
    }
    return kept;
}

}  // namespace

uint32_t crc32c(std::string_view data) {
    uint32_t c = 0xFFFFFFFFu;
    for (unsigned char b : data) c = crc_table()[(c ^ b) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(std::string_view data) {
    const uint32_t c = crc32c(data);
    return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

std::string tensorboard_tag(const std::string& key) {
    for (const char* prefix : {"eval", "test"}) {
        const std::string p = std::string(prefix) + "_";
        if (key.rfind(p, 0) == 0) return std::string(prefix) + "/" + key.substr(p.size());
    }
    return "train/" + key;
}

std::string tensorboard_file_name() {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%010lld", static_cast<long long>(std::time(nullptr)));
    return "events.out.tfevents." + std::string(buf) + "." + host_name() + "." + std::to_string(getpid()) + ".0";
}

fs::path default_tensorboard_run_dir(const fs::path& output_dir) {
    const std::time_t t = std::time(nullptr);
    std::tm local{};
    localtime_r(&t, &local);
    char buf[32];
    std::strftime(buf, sizeof buf, "%b%d_%H-%M-%S", &local);
    return output_dir / "runs" / (std::string(buf) + "_" + host_name());
}

TensorBoardEvents::TensorBoardEvents(const fs::path& file, int64_t keep_through_step) : path_(file) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    if (ec) throw FileError("cannot create the TensorBoard folder " + file.parent_path().string() + ": " + ec.message());
    const bool existing = fs::exists(file);
    if (existing) io::write_text_atomically(file, records_through(io::read_file(file), keep_through_step, file));
    out_.open(file, std::ios::binary | std::ios::app);
    if (!out_) throw FileError("cannot write the TensorBoard events file " + file.string());
    if (!existing) write_event(event_with(0, 3, "brain.Event:2"));
}

void TensorBoardEvents::scalar(const std::string& tag, double value, int64_t step) {
    std::string v;  // Summary.Value{tag = 1, simple_value = 2}
    put_bytes(v, 1, tag);
    put_fixed(v, 2, 5, static_cast<float>(value));
    std::string summary;
    put_bytes(summary, 1, v);
    write_event(event_with(step, 5, summary));
}

void TensorBoardEvents::text(const std::string& tag, const std::string& text, int64_t step) {
    // what torch's SummaryWriter.add_text writes: a string tensor of shape [1] for the "text" plugin
    std::string plugin, metadata, dim, shape, tensor, v, summary;
    put_bytes(plugin, 1, "text");           // PluginData.plugin_name
    put_bytes(metadata, 1, plugin);         // SummaryMetadata.plugin_data
    put_int(dim, 1, 1);                     // Dim.size
    put_bytes(shape, 2, dim);               // TensorShapeProto.dim
    put_int(tensor, 1, 7);                  // TensorProto.dtype = DT_STRING
    put_bytes(tensor, 2, shape);            // TensorProto.tensor_shape
    put_bytes(tensor, 8, text);             // TensorProto.string_val
    put_bytes(v, 1, tag + "/text_summary");  // Value.tag
    put_bytes(v, 9, metadata);              // Value.metadata
    put_bytes(v, 8, tensor);                // Value.tensor
    put_bytes(summary, 1, v);
    write_event(event_with(step, 5, summary));
}

std::string tfrecord(std::string_view data) {
    std::string record(8, '\0');
    const uint64_t len = data.size();
    std::memcpy(record.data(), &len, 8);
    const uint32_t len_crc = masked_crc32c(record), data_crc = masked_crc32c(data);
    record.append(reinterpret_cast<const char*>(&len_crc), 4);
    record += data;
    record.append(reinterpret_cast<const char*>(&data_crc), 4);
    return record;
}

void TensorBoardEvents::write_event(const std::string& event) {
    const std::string record = tfrecord(event);
    out_.write(record.data(), static_cast<std::streamsize>(record.size()));
    out_.flush();
    if (!out_) throw FileError("cannot write the TensorBoard events file " + path_.string() + " (disk full?)");
}

}  // namespace tb
