// The demo's shipped tokenizer (datasets/demo/tunebench_demo_tokenizer.model): what init-demo
// writes, what libsentencepiece's trainer makes from the demo text, and that it covers that text.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "demo/demo_model.h"
#include "io/atomic_file.h"
#include "test_support.h"
#include "tokenizer/spm_library.h"

using namespace tb;

TEST(DemoTokenizer, InitDemoWritesTheShippedFile) {
    test::TempDir tmp;
    const auto model = init_demo(tmp.path);
    EXPECT_EQ(io::read_file(model / "tokenizer.model"), std::string(embedded_demo_tokenizer()));
}

// The shipped file differs from a fresh training only in the corpus path the trainer records.
TEST(DemoTokenizer, ShippedEqualsAFreshTrainingPieceForPiece) {
    test::TempDir tmp;
    const spm::Processor shipped(init_demo(tmp.path / "shipped") / "tokenizer.model");
    const spm::Processor trained(init_demo(tmp.path / "trained", DemoTokenizer::Train) / "tokenizer.model");
    ASSERT_EQ(shipped.piece_size(), trained.piece_size());
    for (int id = 0; id < shipped.piece_size(); ++id)
        ASSERT_EQ(shipped.id_to_piece(id), trained.id_to_piece(id))
            << "id " << id << ": regenerate datasets/demo/tunebench_demo_tokenizer.model (datasets/demo/README.md)";
}

TEST(DemoTokenizer, CoversTheDemoTextWithoutByteFallback) {
    test::TempDir tmp;
    const auto model = init_demo(tmp.path);
    const spm::Processor sp(model / "tokenizer.model");
    const auto rows = nlohmann::json::parse(io::read_file(tmp.path / "data" / "demo" / "tunebench_demo.json"));
    ASSERT_GE(rows.size(), 30u);
    size_t texts = 0;
    for (const auto& row : rows) {
        for (const char* key : {"instruction", "input", "output"}) {
            const std::string text = row.value(key, std::string());
            if (text.empty()) continue;
            ++texts;
            const auto ids = sp.encode(text);
            for (int id : ids) {
                EXPECT_FALSE(sp.is_unknown(id)) << text;
                EXPECT_NE(sp.id_to_piece(id).rfind("<0x", 0), 0u) << "byte fallback in: " << text;
            }
            EXPECT_EQ(sp.decode(ids), text);
        }
    }
    EXPECT_GE(texts, 64u);
}
