// torch.save zip + pickle (protocol 2) reader. Zip: end-of-central-directory (with ZIP64),
// central directory, local headers; only STORED entries. Pickle: a stack machine over the
// opcodes listed in run_pickle(); persistent ids are ("storage", <Class>, key, location, numel).
#include "io/torch_bin.h"

#include <cstdio>
#include <cstring>
#include <functional>
#include <variant>

#include "core/error.h"

namespace tb::io {
namespace {

[[noreturn]] void bad(const std::filesystem::path& p, const std::string& what) {
    throw FileError(p.string() + " is not a readable PyTorch checkpoint: " + what,
                    "re-save it with torch.save, or convert it to safetensors");
}

template <class T>
T rd(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

struct ZipEntry {
    uint64_t offset;  // of the payload
    uint64_t size;
};

// Offsets and sizes come from the file: every sum is checked against the file size without
// overflowing (a ZIP64 offset near 2^64 must not wrap around).
bool fits(uint64_t offset, uint64_t size, uint64_t n) { return offset <= n && size <= n - offset; }

std::map<std::string, ZipEntry> read_zip(const MappedFile& f) {
    const uint8_t* d = f.data();
    const uint64_t n = f.size();
    if (n < 22) bad(f.path(), "too short to be a zip archive");
    int64_t eocd = -1;
    for (int64_t i = static_cast<int64_t>(n) - 22; i >= 0 && i >= static_cast<int64_t>(n) - 65557; --i) {
        if (rd<uint32_t>(d + i) == 0x06054b50) {
            eocd = i;
            break;
        }
    }
    if (eocd < 0) bad(f.path(), "no zip end-of-central-directory record (legacy pre-1.6 format or truncated)");
    uint64_t count = rd<uint16_t>(d + eocd + 10);
    uint64_t cd_size = rd<uint32_t>(d + eocd + 12);
    uint64_t cd_off = rd<uint32_t>(d + eocd + 16);
    if (eocd >= 20 && rd<uint32_t>(d + eocd - 20) == 0x07064b50) {  // ZIP64 locator
        uint64_t z64 = rd<uint64_t>(d + eocd - 20 + 8);
        if (!fits(z64, 56, n) || rd<uint32_t>(d + z64) != 0x06064b50) bad(f.path(), "broken ZIP64 record");
        count = rd<uint64_t>(d + z64 + 32);
        cd_size = rd<uint64_t>(d + z64 + 40);
        cd_off = rd<uint64_t>(d + z64 + 48);
    }
    if (!fits(cd_off, cd_size, n)) bad(f.path(), "central directory lies outside the file (truncated?)");
    std::map<std::string, ZipEntry> out;
    uint64_t p = cd_off;
    for (uint64_t e = 0; e < count; ++e) {
        if (!fits(p, 46, n) || rd<uint32_t>(d + p) != 0x02014b50) bad(f.path(), "corrupt central directory");
        uint16_t method = rd<uint16_t>(d + p + 10);
        uint64_t csize = rd<uint32_t>(d + p + 20);
        uint64_t usize = rd<uint32_t>(d + p + 24);
        uint16_t name_len = rd<uint16_t>(d + p + 28), extra_len = rd<uint16_t>(d + p + 30),
                 comment_len = rd<uint16_t>(d + p + 32);
        uint64_t local = rd<uint32_t>(d + p + 42);
        if (!fits(p + 46, uint64_t{name_len} + extra_len + comment_len, n)) bad(f.path(), "corrupt central directory");
        std::string name(reinterpret_cast<const char*>(d + p + 46), name_len);
        // ZIP64 extra field: the 0xFFFFFFFF fields follow in order usize, csize, offset.
        const uint8_t* x = d + p + 46 + name_len;
        const uint8_t* xend = x + extra_len;
        while (xend - x >= 4) {
            uint16_t id = rd<uint16_t>(x), len = rd<uint16_t>(x + 2);
            if (len > xend - x - 4) bad(f.path(), "corrupt extra field of " + name);
            if (id == 1) {
                const uint8_t* q = x + 4;
                const uint8_t* qend = q + len;
                auto next = [&](uint64_t& field) {
                    if (field != 0xFFFFFFFF) return;
                    if (qend - q < 8) bad(f.path(), "short ZIP64 field of " + name);
                    field = rd<uint64_t>(q);
                    q += 8;
                };
                next(usize);
                next(csize);
                next(local);
            }
            x += 4 + len;
        }
        if (method != 0) bad(f.path(), "entry " + name + " is compressed; torch.save writes stored entries");
        if (!fits(local, 30, n) || rd<uint32_t>(d + local) != 0x04034b50) bad(f.path(), "corrupt local header of " + name);
        uint64_t data = local + 30 + rd<uint16_t>(d + local + 26) + rd<uint16_t>(d + local + 28);
        if (!fits(data, csize, n)) bad(f.path(), "entry " + name + " runs past the end of the file (truncated?)");
        if (out.count(name)) bad(f.path(), "entry " + name + " appears twice");
        out[name] = {data, csize};
        p += 46 + uint64_t{name_len} + extra_len + comment_len;
    }
    return out;
}

// ---- pickle values -------------------------------------------------------------------------
// Values live in one arena and refer to each other by plain pointers: a pickle may nest a
// million tuples or make a list contain itself, and neither may recurse on destruction.
struct Value;
using ValuePtr = Value*;
struct Global { std::string module, name; };
struct Storage { std::string dtype, key; };
struct TensorRef { Storage storage; int64_t offset; std::vector<int64_t> size, stride; };
struct Object { Global cls; ValuePtr args; };  // anything else REDUCE'd
struct Mark {};
using List = std::vector<ValuePtr>;
using Dict = std::vector<std::pair<ValuePtr, ValuePtr>>;
struct Value {
    std::variant<std::monostate, bool, int64_t, double, std::string, List, Dict, Global, Storage,
                 TensorRef, Object, Mark>
        v;
    bool is_tuple = false;
};
class Arena {
public:
    ValuePtr make(auto x) {
        values_.push_back(std::make_unique<Value>());
        values_.back()->v = std::move(x);
        return values_.back().get();
    }

private:
    std::vector<std::unique_ptr<Value>> values_;
};

std::string storage_dtype(const std::string& cls) {
    static const std::map<std::string, std::string> m = {
        {"HalfStorage", "F16"},   {"BFloat16Storage", "BF16"}, {"FloatStorage", "F32"},
        {"DoubleStorage", "F64"}, {"LongStorage", "I64"},      {"IntStorage", "I32"},
        {"ShortStorage", "I16"},  {"CharStorage", "I8"},       {"ByteStorage", "U8"},
        {"BoolStorage", "BOOL"}};
    auto it = m.find(cls);
    return it == m.end() ? "" : it->second;
}

ValuePtr run_pickle(Arena& arena, const uint8_t* p, size_t n, const std::filesystem::path& path) {
    std::vector<ValuePtr> stack;
    std::map<uint32_t, ValuePtr> memo;
    const uint8_t* end = p + n;
    auto make = [&](auto x) { return arena.make(std::move(x)); };
    auto need = [&](size_t k) { if (k > static_cast<size_t>(end - p)) bad(path, "data.pkl is truncated"); };
    auto top = [&]() -> Value& {
        if (stack.empty()) bad(path, "data.pkl stack underflow");
        return *stack.back();
    };
    auto pop = [&]() {
        if (stack.empty()) bad(path, "data.pkl stack underflow");
        auto v = stack.back();
        stack.pop_back();
        return v;
    };
    auto memo_get = [&](uint32_t key) {
        auto it = memo.find(key);
        if (it == memo.end()) bad(path, "data.pkl refers to memo entry " + std::to_string(key) + ", which was never stored");
        return it->second;
    };
    auto list_of = [&](Value& v) -> List& {
        auto* l = std::get_if<List>(&v.v);
        if (!l) bad(path, "data.pkl appends to something that is not a list");
        return *l;
    };
    auto text = [&](ValuePtr v) -> const std::string& {
        auto* s = std::get_if<std::string>(&v->v);
        if (!s) bad(path, "expected a string in data.pkl");
        return *s;
    };
    auto pop_mark = [&]() {
        List items;
        while (true) {
            auto v = pop();
            if (std::holds_alternative<Mark>(v->v)) break;
            items.insert(items.begin(), v);
        }
        return items;
    };
    auto as_int = [&](const ValuePtr& v) {
        if (auto* i = std::get_if<int64_t>(&v->v)) return *i;
        bad(path, "expected an integer in data.pkl");
    };
    auto int_list = [&](const ValuePtr& v) {
        std::vector<int64_t> out;
        auto* l = std::get_if<List>(&v->v);
        if (!l) bad(path, "expected a tuple of integers in data.pkl");
        for (auto& e : *l) out.push_back(as_int(e));
        return out;
    };
    auto read_line = [&]() {
        std::string s;
        while (p < end && *p != '\n') s.push_back(static_cast<char>(*p++));
        if (p < end) ++p;
        return s;
    };
    while (p < end) {
        uint8_t op = *p++;
        switch (op) {
            case 0x80: need(1); ++p; break;                   // PROTO
            case 0x95: need(8); p += 8; break;                // FRAME
            case '.': return pop();                           // STOP
            case '}': stack.push_back(make(Dict{})); break;   // EMPTY_DICT
            case ']': stack.push_back(make(List{})); break;   // EMPTY_LIST
            case ')': { auto t = make(List{}); t->is_tuple = true; stack.push_back(t); break; }
            case '(': stack.push_back(make(Mark{})); break;
            case 'N': stack.push_back(make(std::monostate{})); break;
            case 0x88: stack.push_back(make(true)); break;
            case 0x89: stack.push_back(make(false)); break;
            case 'J': need(4); stack.push_back(make(int64_t(rd<int32_t>(p)))); p += 4; break;
            case 'K': need(1); stack.push_back(make(int64_t(*p))); p += 1; break;
            case 'M': need(2); stack.push_back(make(int64_t(rd<uint16_t>(p)))); p += 2; break;
            case 0x8a: {  // LONG1
                need(1);
                uint8_t k = *p++;
                need(k);
                int64_t v = 0;
                for (int i = k - 1; i >= 0; --i) v = (v << 8) | p[i];
                if (k > 0 && k < 8 && (p[k - 1] & 0x80)) v -= (int64_t(1) << (8 * k));
                p += k;
                stack.push_back(make(v));
                break;
            }
            case 'G': {  // BINFLOAT, big-endian
                need(8);
                uint64_t b = 0;
                for (int i = 0; i < 8; ++i) b = (b << 8) | p[i];
                double d;
                std::memcpy(&d, &b, 8);
                p += 8;
                stack.push_back(make(d));
                break;
            }
            case 'X': case 'T': {
                need(4);
                uint32_t k = rd<uint32_t>(p);
                p += 4;
                need(k);
                stack.push_back(make(std::string(reinterpret_cast<const char*>(p), k)));
                p += k;
                break;
            }
            case 0x8c: case 'U': {
                need(1);
                uint8_t k = *p++;
                need(k);
                stack.push_back(make(std::string(reinterpret_cast<const char*>(p), k)));
                p += k;
                break;
            }
            case 'c': {  // GLOBAL "module\nname\n"
                std::string mod = read_line();
                std::string name = read_line();
                stack.push_back(make(Global{mod, name}));
                break;
            }
            case 0x93: {  // STACK_GLOBAL
                auto name = pop(), mod = pop();
                stack.push_back(make(Global{text(mod), text(name)}));
                break;
            }
            case 'q': need(1); memo[*p++] = &top(); break;
            case 'r': need(4); memo[rd<uint32_t>(p)] = &top(); p += 4; break;
            case 0x94: memo[static_cast<uint32_t>(memo.size())] = &top(); break;
            case 'h': need(1); stack.push_back(memo_get(*p++)); break;
            case 'j': need(4); stack.push_back(memo_get(rd<uint32_t>(p))); p += 4; break;
            case 't': { auto t = make(pop_mark()); t->is_tuple = true; stack.push_back(t); break; }
            case 0x85: case 0x86: case 0x87: {
                int k = op - 0x84;
                List items(k);
                for (int i = k - 1; i >= 0; --i) items[i] = pop();
                auto t = make(items);
                t->is_tuple = true;
                stack.push_back(t);
                break;
            }
            case 'a': { auto v = pop(); list_of(top()).push_back(v); break; }
            case 'e': {
                auto items = pop_mark();
                auto& l = list_of(top());
                l.insert(l.end(), items.begin(), items.end());
                break;
            }
            case 's': {
                auto v = pop(), k = pop();
                auto* d = std::get_if<Dict>(&top().v);
                if (d) d->push_back({k, v});
                break;
            }
            case 'u': {
                auto items = pop_mark();
                auto* d = std::get_if<Dict>(&top().v);
                if (d)
                    for (size_t i = 0; i + 1 < items.size(); i += 2) d->push_back({items[i], items[i + 1]});
                break;
            }
            case 'b': pop(); break;  // BUILD: object state (e.g. OrderedDict metadata) is not needed
            case 'Q': {              // BINPERSID
                auto pid = pop();
                auto* l = std::get_if<List>(&pid->v);
                if (!l || l->size() < 3) bad(path, "unexpected persistent id");
                auto* cls = std::get_if<Global>(&(*l)[1]->v);
                std::string dtype = cls ? storage_dtype(cls->name) : "";
                if (dtype.empty()) bad(path, "unsupported storage type " + (cls ? cls->name : std::string("?")));
                stack.push_back(make(Storage{dtype, text((*l)[2])}));
                break;
            }
            case 'R': case 0x81: {  // REDUCE / NEWOBJ
                auto args = pop();
                auto callable = pop();
                auto* g = std::get_if<Global>(&callable->v);
                auto* a = std::get_if<List>(&args->v);
                if (!g || !a) bad(path, "unexpected REDUCE in data.pkl");
                if (g->name == "OrderedDict" || g->name == "dict") {
                    stack.push_back(make(Dict{}));
                } else if (g->name == "_rebuild_tensor_v2" || g->name == "_rebuild_tensor") {
                    if (a->size() < 4) bad(path, "short _rebuild_tensor_v2 call");
                    auto* st = std::get_if<Storage>(&(*a)[0]->v);
                    if (!st) bad(path, "tensor without a storage");
                    stack.push_back(make(TensorRef{*st, as_int((*a)[1]), int_list((*a)[2]), int_list((*a)[3])}));
                } else if (g->name == "_rebuild_parameter" || g->name == "_rebuild_parameter_with_state" ||
                           g->name == "restore_type_tag") {  // LibTorch's pickle_save wraps the dict
                    if (a->empty()) bad(path, g->name + " without arguments");
                    stack.push_back((*a)[0]);
                } else {
                    stack.push_back(make(Object{*g, args}));
                }
                break;
            }
            default:
                {
                char hex[8];
                std::snprintf(hex, sizeof hex, "0x%02x", op);
                bad(path, std::string("unsupported pickle opcode ") + hex + " in data.pkl");
            }
        }
    }
    bad(path, "data.pkl has no STOP opcode");
}

}  // namespace

TorchBinReader::TorchBinReader(const std::filesystem::path& path)
    : file_(std::make_shared<MappedFile>(path)) {
    auto entries = read_zip(*file_);
    std::string prefix;
    for (const auto& [name, _] : entries) {
        auto pos = name.rfind("/data.pkl");
        if (pos != std::string::npos && name.size() == pos + 9) prefix = name.substr(0, pos + 1);
    }
    auto pkl = entries.find(prefix + "data.pkl");
    if (pkl == entries.end()) bad(path, "no data.pkl record in the archive");
    Arena arena;
    auto root = run_pickle(arena, file_->data() + pkl->second.offset, pkl->second.size, path);
    auto* dict = std::get_if<Dict>(&root->v);
    if (!dict) bad(path, "the pickled object is not a state dict");
    for (const auto& [k, v] : *dict) {
        auto* name = std::get_if<std::string>(&k->v);
        auto* t = std::get_if<TensorRef>(&v->v);
        if (!name || !t) continue;  // non-tensor entries (e.g. metadata) are skipped
        auto rec = entries.find(prefix + "data/" + t->storage.key);
        if (rec == entries.end()) bad(path, "storage data/" + t->storage.key + " is missing");
        if (tensors_.count(*name)) bad(path, "tensor '" + *name + "' appears twice");
        if (t->stride.size() != t->size.size())
            bad(path, "tensor '" + *name + "' has " + std::to_string(t->size.size()) + " dimensions but " +
                          std::to_string(t->stride.size()) + " strides");
        TensorView view;
        view.dtype = t->storage.dtype;
        view.shape = t->size;
        // Only contiguous tensors: what state dicts of HF models hold. Sizes and the offset are
        // checked before any product so a damaged file cannot overflow them.
        const uint64_t es = dtype_size(view.dtype);
        uint64_t elements = 1;
        for (int64_t d : t->size) {
            if (d < 0 || (d > 0 && elements > (uint64_t{1} << 62) / static_cast<uint64_t>(d)))
                bad(path, "tensor '" + *name + "' has an impossible shape");
            elements *= static_cast<uint64_t>(d);
        }
        if (t->offset < 0 || static_cast<uint64_t>(t->offset) > rec->second.size / es)
            bad(path, "tensor '" + *name + "' starts outside its storage");
        int64_t expect = 1;
        for (int i = static_cast<int>(t->size.size()) - 1; i >= 0 && elements > 0; --i) {
            if (t->size[i] != 1 && t->stride[i] != expect) {
                throw UnsupportedError(path.string() + ": tensor '" + *name + "' is not contiguous",
                                       "re-save the state dict after .contiguous()");
            }
            expect *= t->size[i];
        }
        const uint64_t begin = static_cast<uint64_t>(t->offset) * es;
        if (elements > (rec->second.size - begin) / es) bad(path, "tensor '" + *name + "' exceeds its storage");
        view.nbytes = static_cast<size_t>(elements * es);
        view.data = file_->data() + rec->second.offset + begin;
        names_.push_back(*name);
        tensors_[*name] = std::move(view);
    }
}

const TensorView& TorchBinReader::tensor(const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw FileError("tensor '" + name + "' is not in " + path().string());
    return it->second;
}

}  // namespace tb::io
