// Malformed torch.save files built byte by byte (a stored zip around a hand-written pickle):
// each is a FileError naming the file, never a crash, an overflow or an unbounded allocation.
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "io/torch_bin.h"
#include "test_support.h"

using namespace tb;
using namespace std::string_literals;

namespace {

template <class T>
void put(std::string& s, T v) {
    s.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// A stored (uncompressed) zip: local headers, central directory, end record; no ZIP64 unless
// `zip64_offset` is given, then a ZIP64 end record whose central-directory offset is that value.
std::string zip_of(const std::vector<std::pair<std::string, std::string>>& entries,
                   std::optional<uint64_t> zip64_offset = std::nullopt) {
    std::string out, cd;
    for (const auto& [name, data] : entries) {
        const auto local = static_cast<uint32_t>(out.size());
        put<uint32_t>(out, 0x04034b50);
        out.append(22, '\0');
        put<uint16_t>(out, static_cast<uint16_t>(name.size()));
        put<uint16_t>(out, 0);
        out += name + data;
        std::string h;
        put<uint32_t>(h, 0x02014b50);
        h.append(6, '\0');
        put<uint16_t>(h, 0);  // stored
        h.append(8, '\0');
        put<uint32_t>(h, static_cast<uint32_t>(data.size()));
        put<uint32_t>(h, static_cast<uint32_t>(data.size()));
        put<uint16_t>(h, static_cast<uint16_t>(name.size()));
        h.append(12, '\0');
        put<uint32_t>(h, local);
        cd += h + name;
    }
    const auto cd_off = static_cast<uint32_t>(out.size());
    out += cd;
    if (zip64_offset) {
        const auto z64 = static_cast<uint64_t>(out.size());
        put<uint32_t>(out, 0x06064b50);
        out.append(28, '\0');
        put<uint64_t>(out, entries.size());
        put<uint64_t>(out, cd.size());
        put<uint64_t>(out, *zip64_offset);
        put<uint32_t>(out, 0x07064b50);
        put<uint32_t>(out, 0);
        put<uint64_t>(out, z64);
        put<uint32_t>(out, 1);
    }
    put<uint32_t>(out, 0x06054b50);
    out.append(6, '\0');
    put<uint16_t>(out, static_cast<uint16_t>(entries.size()));
    put<uint32_t>(out, static_cast<uint32_t>(cd.size()));
    put<uint32_t>(out, cd_off);
    put<uint16_t>(out, 0);
    return out;
}

std::string bin_str(const std::string& s) {  // BINUNICODE
    std::string o = "X";
    put<uint32_t>(o, static_cast<uint32_t>(s.size()));
    return o + s;
}

// {name: _rebuild_tensor_v2(storage("0", FloatStorage, 4 elements), offset, size, stride)}
std::string state_dict_pickle(int32_t offset, const std::vector<int32_t>& size, const std::vector<int32_t>& stride) {
    auto tuple = [](const std::vector<int32_t>& v) {
        std::string t = "(";
        for (int32_t x : v) {
            t += "J";
            put<int32_t>(t, x);
        }
        return t + "t";
    };
    std::string p = "\x80\x02}" + bin_str("w") + "ctorch._utils\n_rebuild_tensor_v2\n(";
    p += "(" + bin_str("storage") + "ctorch\nFloatStorage\n" + bin_str("0") + bin_str("cpu") + "K\x04tQ";
    p += "J";
    put<int32_t>(p, offset);
    p += tuple(size) + tuple(stride) + "\x89" + "ccollections\nOrderedDict\n)RtRs.";
    return p;
}

std::string error_for(const std::string& file_bytes) {
    test::TempDir dir;
    std::ofstream(dir.path / "pytorch_model.bin", std::ios::binary) << file_bytes;
    const std::string e = test::error_of<FileError>([&] { io::TorchBinReader r(dir.path / "pytorch_model.bin"); });
    EXPECT_NE(e.find("pytorch_model.bin"), std::string::npos) << e;
    return e;
}

std::string pickle_error(const std::string& pickle) {
    return error_for(zip_of({{"archive/data.pkl", pickle}, {"archive/data/0", std::string(16, '\0')}}));
}

}  // namespace

TEST(TorchBinDamage, TheHandWrittenStateDictReads) {
    test::TempDir dir;
    std::ofstream(dir.path / "m.bin", std::ios::binary)
        << zip_of({{"archive/data.pkl", state_dict_pickle(1, {3}, {1})}, {"archive/data/0", std::string(16, '\1')}});
    io::TorchBinReader r(dir.path / "m.bin");
    ASSERT_TRUE(r.has("w"));
    EXPECT_EQ(r.tensor("w").nbytes, 12u);
}

TEST(TorchBinDamage, PickleOpcodesOnAnEmptyStack) {
    for (const std::string op : {"a"s, "s"s, "e"s, "u"s, "q\x00"s, "\x94"s, "b"s, "R"s, "\x93"s, "t"s, "\x85"s, "Q"s, "."s})
        EXPECT_NE(pickle_error("\x80\x02"s + op).find("stack"), std::string::npos) << op;
}

TEST(TorchBinDamage, MalformedPickles) {
    EXPECT_NE(pickle_error("\x80\x02" "ctorch._utils\n_rebuild_parameter\n)R.").find("without arguments"), std::string::npos);
    EXPECT_NE(pickle_error("\x80\x02" "h\x07."s).find("memo entry 7"), std::string::npos);
    EXPECT_NE(pickle_error("\x80\x02}K\x01" "a.").find("not a list"), std::string::npos);
    EXPECT_NE(pickle_error("\x80\x02K\x01K\x02\x93.").find("expected a string"), std::string::npos);
    EXPECT_NE(pickle_error("\x80\x02X\xff\xff\xff\xff").find("truncated"), std::string::npos);
    // A million nested tuples, and a list that contains itself: not a state dict, no recursion.
    EXPECT_NE(pickle_error("\x80\x02]" + std::string(1'000'000, '\x85') + ".").find("not a state dict"), std::string::npos);
    EXPECT_NE(pickle_error("\x80\x02]q\x00h\x00" "a."s).find("not a state dict"), std::string::npos);
}

TEST(TorchBinDamage, TensorGeometry) {
    auto with = [](const std::string& pickle) {
        return error_for(zip_of({{"archive/data.pkl", pickle}, {"archive/data/0", std::string(16, '\0')}}));
    };
    EXPECT_NE(with(state_dict_pickle(0, {2, 2}, {2})).find("2 dimensions but 1 strides"), std::string::npos);
    EXPECT_NE(with(state_dict_pickle(-1, {2}, {1})).find("starts outside its storage"), std::string::npos);
    EXPECT_NE(with(state_dict_pickle(0, {-4}, {1})).find("impossible shape"), std::string::npos);
    EXPECT_NE(with(state_dict_pickle(0, {1 << 30, 1 << 30, 1 << 30}, {1, 1, 1})).find("impossible shape"), std::string::npos);
    EXPECT_NE(with(state_dict_pickle(2, {3}, {1})).find("exceeds its storage"), std::string::npos);
    EXPECT_NE(with(state_dict_pickle(1 << 30, {1}, {1})).find("starts outside"), std::string::npos);
}

TEST(TorchBinDamage, ZipOffsetsThatWrap) {
    const std::vector<std::pair<std::string, std::string>> entries = {{"archive/data.pkl", state_dict_pickle(0, {1}, {1})},
                                                                      {"archive/data/0", std::string(16, '\0')}};
    EXPECT_NE(error_for(zip_of(entries, 0xFFFFFFFFFFFFFFF0ull)).find("central directory"), std::string::npos);
    std::string z = zip_of(entries, 0);
    // Point the ZIP64 locator itself past the end so that offset + 56 wraps around.
    const size_t locator = z.size() - 22 - 20;
    const uint64_t wrap = 0xFFFFFFFFFFFFFFE0ull;
    std::memcpy(z.data() + locator + 8, &wrap, 8);
    EXPECT_NE(error_for(z).find("ZIP64"), std::string::npos);
    EXPECT_NE(error_for(zip_of({{"archive/data.pkl", "\x80\x02}."}, {"archive/data.pkl", "\x80\x02}."}})).find("twice"),
              std::string::npos);
}
