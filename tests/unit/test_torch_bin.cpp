// PyTorch .bin (torch.save zip) reader against files written by LibTorch's own torch::pickle_save
// (the format Python's torch.load reads), including a sharded pytorch_model.bin.index.json folder.
#include <gtest/gtest.h>
#include <torch/serialize.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/checkpoint.h"
#include "io/tensor_io.h"
#include "io/torch_bin.h"
#include "test_support.h"

using namespace tb;

namespace {
void write_bin(const std::filesystem::path& p, const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
    c10::Dict<std::string, at::Tensor> dict;
    for (const auto& [k, v] : tensors) dict.insert(k, v);
    auto bytes = torch::pickle_save(dict);
    std::ofstream(p, std::ios::binary).write(bytes.data(), bytes.size());
}
}  // namespace

TEST(TorchBin, ReadsWhatLibTorchPickleSaveWrites) {
    test::TempDir dir;
    auto gen = at::detail::createCPUGenerator(3);
    std::vector<std::pair<std::string, at::Tensor>> in = {
        {"w", at::randn({4, 3}, gen)},
        {"h", at::randn({5}, gen).to(at::kHalf)},
        {"b", at::randn({2, 3}, gen).to(at::kBFloat16)},
        {"i", at::arange(6, at::kLong).reshape({2, 3})},
    };
    write_bin(dir.path / "pytorch_model.bin", in);
    io::TorchBinReader r(dir.path / "pytorch_model.bin");
    ASSERT_EQ(r.names().size(), in.size());
    for (const auto& [k, t] : in) {
        const auto& v = r.tensor(k);
        auto got = io::to_tensor(v, t.scalar_type(), at::kCPU);
        EXPECT_TRUE(at::equal(got, t)) << k;
    }
}

TEST(TorchBin, ShardedFolderThroughTheIndex) {
    test::TempDir dir;
    auto a = at::ones({2, 2}), b = at::full({3}, 2.0);
    write_bin(dir.path / "pytorch_model-00001-of-00002.bin", {{"x.a", a}});
    write_bin(dir.path / "pytorch_model-00002-of-00002.bin", {{"x.b", b}});
    nlohmann::json index = {{"metadata", {{"total_size", 28}}},
                            {"weight_map", {{"x.a", "pytorch_model-00001-of-00002.bin"}, {"x.b", "pytorch_model-00002-of-00002.bin"}}}};
    std::ofstream(dir.path / "pytorch_model.bin.index.json") << index.dump();
    io::Checkpoint ck(dir.path);
    EXPECT_EQ(ck.format(), "bin");
    EXPECT_TRUE(at::equal(io::to_tensor(ck.view("x.b"), at::kFloat, at::kCPU), b));
    EXPECT_EQ(ck.file_of("x.a").filename(), "pytorch_model-00001-of-00002.bin");
}

TEST(TorchBin, TruncatedOrForeignFilesAreClearErrors) {
    test::TempDir dir;
    write_bin(dir.path / "m.bin", {{"w", at::ones({64, 64})}});
    std::string bytes = test::slurp(dir.path / "m.bin");
    std::ofstream(dir.path / "cut.bin", std::ios::binary).write(bytes.data(), bytes.size() / 2);
    EXPECT_THROW(io::TorchBinReader(dir.path / "cut.bin"), FileError);
    std::ofstream(dir.path / "text.bin") << "hello, I am not a zip file";
    try {
        io::TorchBinReader r(dir.path / "text.bin");
        FAIL();
    } catch (const FileError& e) {
        EXPECT_NE(std::string(e.what()).find("text.bin"), std::string::npos);
    }
}
