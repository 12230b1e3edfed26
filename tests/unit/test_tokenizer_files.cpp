// Damaged and unusual tokenizer files: each is a clear tb::Error naming the file, never a crash or
// a multi-gigabyte allocation; LLaMA-2's folder layout (a converted tokenizer.json beside
// tokenizer.model, the specials both added and in the vocabulary) opens and matches its vectors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"
#include "tokenizer/tokenizer.h"
#include "test_support.h"

using namespace tb;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

void write(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
}

// A small byte-level BPE in the layout HF tokenizers writes (ByteLevel pre-tokenizer).
json tiny_byte_level() {
    json vocab = json::object();
    int id = 0;
    for (const char* t : {"a", "b", "c", "ab", "abc", "Ġ", "Ġa"}) vocab[t] = id++;
    return {{"version", "1.0"},
            {"added_tokens", json::array({{{"id", 7}, {"content", "<|end|>"}, {"special", true}}})},
            {"normalizer", nullptr},
            {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
            {"post_processor", nullptr},
            {"decoder", {{"type", "ByteLevel"}}},
            {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array({"a b", "ab c", "Ġ a"})}}}};
}

std::string load_error(const json& tokenizer_json) {
    test::TempDir dir;
    write(dir.path / "tokenizer.json", tokenizer_json.dump());
    return test::error_of([&] { load_tokenizer(dir.path, nullptr); });
}

// LLaMA-2's tokenizer.json as transformers converts it: BPE with byte fallback, the three
// specials both in added_tokens and in model.vocab.
json llama2_layout() {
    json vocab = json::object();
    vocab["<unk>"] = 0;
    vocab["<s>"] = 1;
    vocab["</s>"] = 2;
    vocab["▁"] = 3;
    json added = json::array();
    for (int i = 0; i < 3; ++i)
        added.push_back({{"id", i}, {"content", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>"}, {"special", true}});
    return {{"added_tokens", added},
            {"normalizer", {{"type", "Sequence"}, {"normalizers", json::array({{{"type", "Prepend"}, {"prepend", "▁"}}})}}},
            {"pre_tokenizer", nullptr},
            {"decoder", {{"type", "Sequence"}, {"decoders", json::array({{{"type", "ByteFallback"}}})}}},
            {"model", {{"type", "BPE"}, {"byte_fallback", true}, {"unk_token", "<unk>"}, {"vocab", vocab}, {"merges", json::array()}}}};
}

}  // namespace

TEST(TokenizerFiles, TinyByteLevelTokenizerLoads) {
    test::TempDir dir;
    write(dir.path / "tokenizer.json", tiny_byte_level().dump());
    auto tok = load_tokenizer(dir.path, nullptr);
    EXPECT_EQ(tok->encode("abc a<|end|>"), (std::vector<int64_t>{4, 6, 7}));
    EXPECT_EQ(tok->decode({4, 6}), "abc a");
}

TEST(TokenizerFiles, Llama2LayoutIsReadThroughTokenizerModel) {
    test::TempDir dir;
    fs::copy_file(test::models_dir() / "llama2-tokenizer" / "tokenizer.model", dir.path / "tokenizer.model");
    write(dir.path / "tokenizer.json", llama2_layout().dump());
    auto tok = load_tokenizer(dir.path, nullptr);
    EXPECT_EQ(tok->kind(), "sentencepiece");
    auto reference = load_tokenizer(test::models_dir() / "llama2-tokenizer", nullptr);
    for (const char* text : {"Hello world", " 你好，世界", "<s> is literal text"})
        EXPECT_EQ(tok->encode(text), reference->encode(text)) << text;
    // Without tokenizer.model the converted file is refused with what to copy.
    fs::remove(dir.path / "tokenizer.model");
    const std::string e = test::error_of([&] { load_tokenizer(dir.path, nullptr); });
    EXPECT_NE(e.find("SentencePiece BPE"), std::string::npos) << e;
    EXPECT_NE(e.find("tokenizer.model"), std::string::npos) << e;
}

TEST(TokenizerFiles, SpecialsBothAddedAndInTheVocabulary) {
    // The layout that crashed the loader: an added token whose id is already in the vocabulary.
    json j = tiny_byte_level();
    j["model"]["vocab"]["<|end|>"] = 7;
    j["added_tokens"].push_back({{"id", 2}, {"content", "c"}, {"special", false}});
    test::TempDir dir;
    write(dir.path / "tokenizer.json", j.dump());
    auto tok = load_tokenizer(dir.path, nullptr);
    EXPECT_EQ(tok->encode("ab<|end|>"), (std::vector<int64_t>{3, 7}));
    EXPECT_TRUE(tok->is_special(7));
    EXPECT_EQ(tok->decode({3, 7}, false), "ab<|end|>");
}

TEST(TokenizerFiles, DamagedFilesAreClearErrors) {
    struct Case {
        const char* what;
        std::function<void(json&)> damage;
        const char* expected;
    };
    const std::vector<Case> cases = {
        {"negative id", [](json& j) { j["model"]["vocab"]["a"] = -5; }, "expected an integer from 0"},
        {"huge id", [](json& j) { j["model"]["vocab"]["a"] = 4000000000LL; }, "expected an integer from 0"},
        {"id as text", [](json& j) { j["model"]["vocab"]["a"] = "x"; }, "expected an integer from 0"},
        {"huge added id", [](json& j) { j["added_tokens"][0]["id"] = 1LL << 40; }, "expected an integer from 0"},
        {"empty merge pair", [](json& j) { j["model"]["merges"].push_back(json::array()); }, "merge 3"},
        {"merge with one side", [](json& j) { j["model"]["merges"].push_back(json::array({"a", ""})); }, "merge 3"},
        {"merge without space", [](json& j) { j["model"]["merges"][0] = "ab"; }, "merge 0"},
        {"missing vocab", [](json& j) { j["model"].erase("vocab"); }, "model.vocab"},
        {"missing merges", [](json& j) { j["model"].erase("merges"); }, "model.merges"},
        {"missing model", [](json& j) { j.erase("model"); }, "is not supported"},
        {"added token without id", [](json& j) { j["added_tokens"][0].erase("id"); }, "no content or id"},
        {"added content a number", [](json& j) { j["added_tokens"][0]["content"] = 5; }, "no content or id"},
        {"special as text", [](json& j) { j["added_tokens"][0]["special"] = "yes"; }, ""},
        {"pre-tokenizer sequence without list", [](json& j) { j["pre_tokenizer"] = {{"type", "Sequence"}}; }, ""},
        {"regex as number", [](json& j) { j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", 5}}}}; }, "unexpected content"},
        {"bad regex", [](json& j) { j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(("}}}}; }, "cannot be compiled"},
        {"not an object", [](json& j) { j = json::array({1, 2}); }, "expected a JSON object"},
    };
    for (const auto& c : cases) {
        json j = tiny_byte_level();
        c.damage(j);
        const std::string e = load_error(j);
        if (std::string(c.expected).empty()) continue;  // loads or refuses, but never crashes
        EXPECT_NE(e.find(c.expected), std::string::npos) << c.what << ": " << e;
        EXPECT_NE(e.find("tokenizer.json"), std::string::npos) << c.what << ": " << e;
    }
}

TEST(TokenizerFiles, VocabMergesDamageIsAClearError) {
    test::TempDir dir;
    write(dir.path / "vocab.json", R"({"a": 0, "b": 99999999999})");
    write(dir.path / "merges.txt", "#version: 0.2\na b\n");
    std::string e = test::error_of([&] { load_tokenizer(dir.path, nullptr); });
    EXPECT_NE(e.find("vocab.json"), std::string::npos) << e;
    write(dir.path / "vocab.json", R"({"a": 0, "b": 1})");
    write(dir.path / "merges.txt", "a b\nab\n");
    e = test::error_of([&] { load_tokenizer(dir.path, nullptr); });
    EXPECT_NE(e.find("merges.txt: merge 1"), std::string::npos) << e;
    write(dir.path / "merges.txt", "a b\n");
    write(dir.path / "added_tokens.json", R"({"<x>": -1})");
    e = test::error_of([&] { load_tokenizer(dir.path, nullptr); });
    EXPECT_NE(e.find("added_tokens.json"), std::string::npos) << e;
}

TEST(TokenizerFiles, LongPieceAndInvalidUtf8) {
    // A 2 MB run of one letter is one pre-tokenizer piece: merged in O(n log n), not O(n^2).
    auto tok = load_tokenizer(test::models_dir() / "qwen3-tokenizer", nullptr);
    const std::string run(2 << 20, 'a');
    EXPECT_EQ(tok->decode(tok->encode(run)), run);
    // Invalid UTF-8 (a lone continuation byte, an overlong form, a surrogate) is replaced, as a
    // Python str would have it, and never reaches PCRE2 unchecked.
    const std::string bad = std::string("x\x80y\xC0\xAFz\xED\xA0\x80w");
    EXPECT_EQ(tok->decode(tok->encode(bad)), "x\xEF\xBF\xBDy\xEF\xBF\xBDz\xEF\xBF\xBDw");
}

TEST(TokenizerFiles, WrongTypedTokenizerConfigKeysAreClearErrors) {
    for (const char* config : {R"({"tokenizer_class": 5})", R"({"add_bos_token": "yes"})", R"({"name_or_path": ["x"]})",
                               R"({"bos_token": {"content": 7}})", R"({"added_tokens_decoder": {"x": 1}})"}) {
        test::TempDir dir;
        fs::copy_file(test::models_dir() / "llama2-tokenizer" / "tokenizer.model", dir.path / "tokenizer.model");
        write(dir.path / "tokenizer_config.json", config);
        const std::string e = test::error_of([&] { load_tokenizer(dir.path, nullptr); });
        // loads (a value it does not need) or refuses naming the folder, never a raw library exception
        EXPECT_TRUE(e == "no error" || e.find(dir.path.string()) != std::string::npos) << config << ": " << e;
    }
}

// GLM-4's remote-code tokenizer.model (tiktoken's "base64-token rank" lines): a small valid one
// spells and decodes; damage is named by file and line before anything is sized by it.
TEST(TokenizerFiles, TiktokenRanksLoadAndDamageIsAClearError) {
    auto b64 = [](const std::string& s) {
        static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string out;
        uint32_t acc = 0;
        int bits = 0;
        for (unsigned char c : s) {
            acc = (acc << 8) | c;
            for (bits += 8; bits >= 6; bits -= 6) out += abc[(acc >> (bits - 6)) & 63];
        }
        if (bits) out += abc[(acc << (6 - bits)) & 63];
        while (out.size() % 4) out += '=';
        return out;
    };
    std::string ranks;
    for (int b = 0; b < 256; ++b) ranks += b64(std::string(1, static_cast<char>(b))) + " " + std::to_string(b) + "\n";
    const std::string merges = b64("he") + " 256\n" + b64("hel") + " 257\n" + b64("hell") + " 258\n" + b64("hello") + " 259\n";
    test::TempDir dir;
    io::write_text_atomically(dir.path / "tokenizer.model", ranks + merges);
    auto tok = load_tokenizer(dir.path, nullptr);
    EXPECT_EQ(tok->encode("hello"), std::vector<int64_t>({259}));
    EXPECT_EQ(tok->encode("hellx"), std::vector<int64_t>({258, 'x'}));
    EXPECT_EQ(tok->token_to_id("<sop>"), 264);  // the specials follow the ranks: <|endoftext|> 260, …
    EXPECT_EQ(tok->decode(tok->encode("hello 世界")), "hello 世界");
    io::write_text_atomically(dir.path / "tokenizer.model", ranks + b64("he") + " 99999999999\n");
    auto msg = test::error_of<FileError>([&] { load_tokenizer(dir.path, nullptr); });
    EXPECT_NE(msg.find("rank 99999999999"), std::string::npos) << msg;
    io::write_text_atomically(dir.path / "tokenizer.model", ranks + b64("he") + " 256\n" + b64("he") + " 257\n");
    msg = test::error_of<FileError>([&] { load_tokenizer(dir.path, nullptr); });
    EXPECT_NE(msg.find("repeated"), std::string::npos) << msg;
}
