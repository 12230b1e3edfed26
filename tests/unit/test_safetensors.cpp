// safetensors writer/reader round trip, the real stories260K file, and malformed files
// (each rejected with a FileError that names the file and the defect, never a crash).
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/safetensors.h"
#include "io/tensor_io.h"
#include "test_support.h"

using namespace tb;

namespace {

std::string file_with_header(const std::string& header_json, size_t data_bytes) {
    uint64_t n = header_json.size();
    std::string s(reinterpret_cast<const char*>(&n), 8);
    s += header_json;
    s.append(data_bytes, '\0');
    return s;
}

void expect_rejected(const std::string& bytes, const std::string& needle) {
    test::TempDir dir;
    auto p = dir.path / "bad.safetensors";
    std::ofstream(p, std::ios::binary).write(bytes.data(), bytes.size());
    try {
        io::SafetensorsReader r(p);
        FAIL() << "accepted a malformed file (expected: " << needle << ")";
    } catch (const FileError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
        EXPECT_NE(msg.find(needle), std::string::npos) << msg;
        EXPECT_FALSE(e.hint().empty());
    }
}

}  // namespace

TEST(Safetensors, RoundTripKeepsEveryDtypeAndValue) {
    test::TempDir dir;
    auto gen = at::detail::createCPUGenerator(7);
    io::NamedTensors in = {
        {"a.weight", at::randn({3, 5}, gen)},
        {"b.half", at::randn({4}, gen).to(at::kHalf)},
        {"c.bf16", at::randn({2, 2, 2}, gen).to(at::kBFloat16)},
        {"d.ids", at::arange(10, at::kLong)},
        {"e.bytes", at::arange(7, at::kByte)},
        {"f.scalar", at::scalar_tensor(3.5)},
        {"g.empty", at::empty({0, 4})},
    };
    auto path = dir.path / "x.safetensors";
    io::save_safetensors(path, in);
    io::SafetensorsReader r(path);
    EXPECT_EQ(r.metadata().at("format"), "pt");
    auto out = io::load_safetensors(path);
    ASSERT_EQ(out.size(), in.size());
    for (const auto& [name, t] : in) {
        auto it = std::find_if(out.begin(), out.end(), [&](auto& p) { return p.first == name; });
        ASSERT_NE(it, out.end()) << name;
        EXPECT_EQ(it->second.scalar_type(), t.scalar_type()) << name;
        EXPECT_TRUE(at::equal(it->second, t)) << name;
    }
    // Header padded to 8 bytes, reference order: dtype descending (I64 > F64 > F32 > BF16 > F16 > U8), then name.
    std::string bytes = test::slurp(path);
    uint64_t n;
    std::memcpy(&n, bytes.data(), 8);
    EXPECT_EQ(n % 8, 0u);
    EXPECT_EQ(r.names(), std::vector<std::string>({"d.ids", "a.weight", "f.scalar", "g.empty", "c.bf16", "b.half", "e.bytes"}));
    // No temporary file is left behind.
    int files = 0;
    for (auto& e : std::filesystem::directory_iterator(dir.path)) files += e.is_regular_file();
    EXPECT_EQ(files, 1);
}

TEST(Safetensors, ReadsTheRealStoriesCheckpoint) {
    io::SafetensorsReader r(test::models_dir() / "stories260K-hf" / "model.safetensors");
    EXPECT_EQ(r.names().size(), 47u);
    int64_t params = 0;
    for (const auto& n : r.names()) params += r.tensor(n).numel();
    EXPECT_EQ(params, 260032);
    EXPECT_EQ(r.tensor("model.embed_tokens.weight").shape, std::vector<int64_t>({512, 64}));
}

TEST(Safetensors, RejectsMalformedFiles) {
    const std::string ok = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    auto good = file_with_header(ok, 8);
    expect_rejected(good.substr(0, good.size() - 3), "data buffer");                         // truncated data
    expect_rejected(good.substr(0, 5), "shorter than");                                      // truncated length
    expect_rejected(file_with_header(ok, 8).replace(0, 8, std::string("\xff\xff\x00\x00\x00\x00\x00\x00", 8)), "past the end");
    expect_rejected(file_with_header("{not json at all}", 8), "not valid JSON");
    expect_rejected(file_with_header("[1,2]", 0), "does not start with");
    expect_rejected(file_with_header(R"({"t":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", 8), "unknown dtype");
    expect_rejected(file_with_header(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", 8), "outside the data buffer");
    expect_rejected(file_with_header(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "need 12");
    expect_rejected(file_with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12), "overlaps");
    expect_rejected(file_with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8), "gap");
    expect_rejected(file_with_header(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4), "negative");
    expect_rejected(file_with_header(R"({"a":{"dtype":"F32","shape":[1]}})", 4), "lacks");
}

TEST(Safetensors, MissingFileIsAClearError) {
    EXPECT_THROW(io::SafetensorsReader("/nonexistent/model.safetensors"), FileError);
}
