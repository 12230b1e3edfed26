// ggml's block formats against the test vectors FORMATS.md §2.8 gives (ggml's own ggml-quants.c,
// read from ../shared/spec at test time): the quantized bytes equal byte for byte, and the
// dequantized values equal the listed ones; fp16 / bf16 conversions against c10's.
#include <gtest/gtest.h>

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "core/error.h"
#include "export/ggml_quants.h"
#include "test_support.h"

using namespace tb;

namespace {

struct Vector {
    std::vector<uint8_t> bytes;
    double sum = 0;
    std::vector<double> first;
};

// The §2.8 table's rows: type | bytes | `hex` | Σy | y[0..7] (its numbers use U+2212 for minus).
std::map<std::string, Vector> spec_vectors() {
    std::ifstream in(test::shared_dir() / "spec" / "FORMATS.md");
    std::map<std::string, Vector> out;
    bool in_section = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("### ", 0) == 0) in_section = line.rfind("### 2.8", 0) == 0;
        if (!in_section || line.rfind("| Q", 0) != 0) continue;
        for (size_t p; (p = line.find("\xE2\x88\x92")) != std::string::npos;) line.replace(p, 3, "-");
        std::vector<std::string> cells;
        std::stringstream ss(line);
        for (std::string cell; std::getline(ss, cell, '|');) cells.push_back(cell);
        if (cells.size() < 6) continue;
        auto trim = [](std::string t) {
            t.erase(0, t.find_first_not_of(" `"));
            t.erase(t.find_last_not_of(" `") + 1);
            return t;
        };
        Vector v;
        const std::string hex = trim(cells[3]);
        for (size_t k = 0; k + 1 < hex.size(); k += 2) v.bytes.push_back(static_cast<uint8_t>(std::stoi(hex.substr(k, 2), nullptr, 16)));
        v.sum = std::stod(trim(cells[4]));
        std::istringstream ys(cells[5]);
        for (double y; ys >> y;) v.first.push_back(y);
        out[trim(cells[1])] = v;
    }
    return out;
}

std::vector<float> spec_input() {  // x[i] = (((i*37) % 61) - 30) / 16
    std::vector<float> x(256);
    for (int i = 0; i < 256; ++i) x[i] = static_cast<float>(((i * 37) % 61) - 30) / 16.0f;
    return x;
}

}  // namespace

TEST(GgmlQuants, BlocksEqualGgmlsReferenceQuantizersOnTheSpecVectors) {
    const auto vectors = spec_vectors();
    const auto x = spec_input();
    for (const char* name : {"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"}) {
        ASSERT_TRUE(vectors.count(name)) << name << " missing from FORMATS.md §2.8";
        const auto& want = vectors.at(name);
        const auto type = ggml::type_from_name(name);
        const auto got = ggml::quantize(type, x.data(), 1, 256);
        ASSERT_EQ(got.size(), want.bytes.size()) << name;
        size_t first_diff = got.size();
        for (size_t i = 0; i < got.size(); ++i)
            if (got[i] != want.bytes[i] && first_diff == got.size()) first_diff = i;
        EXPECT_EQ(first_diff, got.size()) << name << ": first differing byte";
        std::vector<float> y(256);
        ggml::dequantize(type, want.bytes.data(), 1, 256, y.data());
        float sum = 0;
        for (float v : y) sum += v;  // float32, in index order, as the spec's sums
        EXPECT_NEAR(sum, want.sum, 1e-6 * std::abs(want.sum) + 1e-7) << name;
        ASSERT_EQ(want.first.size(), 8u) << name;
        for (int i = 0; i < 8; ++i) EXPECT_NEAR(y[i], want.first[i], 1e-7 + 1e-7 * std::abs(want.first[i])) << name << " y[" << i << "]";
    }
}

TEST(GgmlQuants, RoundTripErrorIsBoundedOnRandomRows) {
    std::mt19937 gen(5);
    std::normal_distribution<float> normal(0.f, 1.f);
    const int64_t rows = 8, cols = 512;
    std::vector<float> x(rows * cols);
    for (auto& v : x) v = normal(gen);
    // relative RMS error of a block format on Gaussian data, with room over what ggml gets
    const std::map<std::string, double> bound = {{"F16", 1e-3}, {"BF16", 5e-3}, {"Q8_0", 1e-2},
                                                 {"Q6_K", 3e-2}, {"Q5_K", 6e-2}, {"Q5_1", 8e-2}, {"Q5_0", 8e-2},
                                                 {"Q4_K", 0.12}, {"Q4_0", 0.15}};
    for (const auto& [name, limit] : bound) {
        const auto type = ggml::type_from_name(name);
        const auto q = ggml::quantize(type, x.data(), rows, cols);
        EXPECT_EQ(q.size(), ggml::row_bytes(type, cols) * rows);
        std::vector<float> y(x.size());
        ggml::dequantize(type, q.data(), rows, cols, y.data());
        double err = 0, ref = 0;
        for (size_t i = 0; i < x.size(); ++i) {
            err += (y[i] - x[i]) * (y[i] - x[i]);
            ref += x[i] * x[i];
        }
        EXPECT_LT(std::sqrt(err / ref), limit) << name;
        EXPECT_GT(std::sqrt(err / ref), 0.0) << name << " is lossy";
    }
    // a row that is not a whole number of blocks is refused, naming the type
    EXPECT_NE(test::error_of<ConfigError>([&] { ggml::quantize(ggml::Type::Q4_K, x.data(), 1, 100); }).find("Q4_K"),
              std::string::npos);
    EXPECT_THROW(ggml::type_from_name("Q3_K"), ConfigError);
}

TEST(GgmlQuants, HalfConversionsMatchC10) {
    for (uint32_t h = 0; h < 65536; ++h) {  // every fp16 value, NaNs included (compared as bits)
        const float a = ggml::fp16_to_fp32(static_cast<uint16_t>(h));
        const float b = static_cast<float>(c10::Half(static_cast<uint16_t>(h), c10::Half::from_bits()));
        if (std::isnan(b)) {
            EXPECT_TRUE(std::isnan(a)) << h;
        } else {
            EXPECT_EQ(a, b) << h;
        }
        const float c = ggml::bf16_to_fp32(static_cast<uint16_t>(h));  // exact: compared as bits
        const float d = static_cast<float>(c10::BFloat16(static_cast<uint16_t>(h), c10::BFloat16::from_bits()));
        EXPECT_EQ(std::memcmp(&c, &d, 4), 0) << h;
    }
    std::mt19937 gen(9);
    std::uniform_int_distribution<uint32_t> any;
    for (int i = 0; i < 200000; ++i) {  // random bit patterns: every exponent, subnormals, overflow
        uint32_t u = any(gen);
        float f;
        std::memcpy(&f, &u, 4);
        if (std::isnan(f)) continue;
        EXPECT_EQ(ggml::fp32_to_fp16(f), c10::Half(f).x) << f;
        EXPECT_EQ(ggml::fp32_to_bf16(f), c10::BFloat16(f).x) << f;
    }
}
