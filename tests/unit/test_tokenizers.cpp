// Every tokenizer in ../shared/models against its reference ids: llama.cpp's 46 test vectors
// (generated with the HF tokenizers) for LLaMA-2, Qwen2, Qwen3 and LLaMA-3, and the ChatGLM2/3
// cases listed in the models README (from chatglm.cpp's tests). Also decode(encode(x)) == x.
#include <gtest/gtest.h>

#include "model/model_config.h"
#include "tokenizer/tokenizer.h"
#include "test_support.h"

using namespace tb;

namespace {

struct Vectors {
    std::vector<std::string> inputs;
    std::vector<std::vector<int64_t>> ids;
};

Vectors read_vectors(const std::filesystem::path& folder) {
    Vectors v;
    std::string inp = test::slurp(folder / "test-vectors.inp");
    const std::string sep = "\n__ggml_vocab_test__\n";
    size_t pos = 0;
    while (true) {
        size_t next = inp.find(sep, pos);
        if (next == std::string::npos) break;
        v.inputs.push_back(inp.substr(pos, next - pos));
        pos = next + sep.size();
    }
    std::istringstream out(test::slurp(folder / "test-vectors.out"));
    std::string line;
    while (v.ids.size() < v.inputs.size() && std::getline(out, line)) v.ids.push_back(test::parse_ids(line));
    return v;
}

void check_vectors(const std::string& name) {
    auto folder = test::models_dir() / name;
    auto tok = load_tokenizer(folder, nullptr);
    auto v = read_vectors(folder);
    ASSERT_EQ(v.inputs.size(), 46u) << name;
    ASSERT_EQ(v.ids.size(), 46u) << name;
    int ok = 0;
    for (size_t i = 0; i < v.inputs.size(); ++i) {
        auto ids = tok->encode(v.inputs[i]);
        EXPECT_EQ(ids, v.ids[i]) << name << " case " << i << ": '" << v.inputs[i] << "'";
        ok += ids == v.ids[i];
        if (tok->kind() == "bpe") {
            EXPECT_EQ(tok->decode(ids), v.inputs[i]) << name << " decode case " << i;
        }
    }
    EXPECT_EQ(ok, 46) << name;
}

}  // namespace

TEST(Tokenizers, Llama2SentencePieceMatches46Vectors) { check_vectors("llama2-tokenizer"); }
TEST(Tokenizers, Qwen2VocabMergesMatches46Vectors) { check_vectors("qwen2-tokenizer"); }
TEST(Tokenizers, Qwen3TokenizerJsonMatches46Vectors) { check_vectors("qwen3-tokenizer"); }
TEST(Tokenizers, Llama3IgnoreMergesMatches46Vectors) { check_vectors("llama3-tokenizer"); }

TEST(Tokenizers, ReadmeExamples) {
    auto qwen3 = load_tokenizer(test::models_dir() / "qwen3-tokenizer", nullptr);
    EXPECT_EQ(qwen3->encode("Hello, world! 你好，世界。"),
              std::vector<int64_t>({9707, 11, 1879, 0, 220, 108386, 3837, 99489, 1773}));
    EXPECT_EQ(qwen3->vocab_size(), 151669);
    auto llama3 = load_tokenizer(test::models_dir() / "llama3-tokenizer", nullptr);
    EXPECT_EQ(llama3->encode("Hello world"), std::vector<int64_t>({9906, 1917}));
    // This tokenizer.json has only a ByteLevel post-processor and its tokenizer_config no
    // add_bos_token: HF adds no BOS, so neither do we (the llama3 template supplies it).
    EXPECT_FALSE(llama3->add_bos);
    EXPECT_EQ(*llama3->bos_id, 128000);
    EXPECT_EQ(*llama3->token_to_id("<|eot_id|>"), 128009);
    auto llama2 = load_tokenizer(test::models_dir() / "llama2-tokenizer", nullptr);
    EXPECT_EQ(llama2->encode("Hello world"), std::vector<int64_t>({15043, 3186}));
    EXPECT_EQ(llama2->decode({15043, 3186}), "Hello world");
    auto qwen2 = load_tokenizer(test::models_dir() / "qwen2-tokenizer", nullptr);
    EXPECT_EQ(qwen2->encode("Hello, world!"), std::vector<int64_t>({9707, 11, 1879, 0}));
    EXPECT_EQ(*qwen2->token_to_id("<|im_end|>"), 151645);
    EXPECT_EQ(*qwen2->eos_id, 151645);
}

TEST(Tokenizers, SpecialTokensInTextAreSplitOutForBpe) {
    auto qwen2 = load_tokenizer(test::models_dir() / "qwen2-tokenizer", nullptr);
    auto ids = qwen2->encode("<|im_start|>user\nHi<|im_end|>");
    ASSERT_GE(ids.size(), 3u);
    EXPECT_EQ(ids.front(), 151644);
    EXPECT_EQ(ids.back(), 151645);
    EXPECT_EQ(qwen2->decode(ids, /*skip_special=*/false), "<|im_start|>user\nHi<|im_end|>");
    EXPECT_EQ(qwen2->decode(ids), "user\nHi");
}

class ChatGLMTokenizer : public ::testing::TestWithParam<std::string> {};

TEST_P(ChatGLMTokenizer, MatchesChatglmCppCases) {
    auto folder = test::models_dir() / GetParam();
    auto config = ModelConfig::from_folder(folder);
    auto tok = load_tokenizer(folder, &config);
    EXPECT_EQ(tok->kind(), "chatglm");
    EXPECT_EQ(tok->encode_with_prefix("你好"), std::vector<int64_t>({64790, 64792, 36474, 54591}));
    EXPECT_EQ(tok->encode_with_prefix("[Round 1]\n\n问：你好\n\n答："),
              std::vector<int64_t>({64790, 64792, 790, 30951, 517, 30910, 30939, 30996, 13, 13, 54761, 31211, 39701, 13, 13, 55437, 31211}));
    EXPECT_EQ(tok->encode_with_prefix("def main():\n    print('hello world')\t# greeting"),
              std::vector<int64_t>({64790, 64792, 884, 1301, 9427, 13, 296, 4466, 2029, 15616, 30914, 993, 3387, 12, 31010, 30174}));
    EXPECT_EQ(tok->encode_with_prefix("Using a Transformer network is simple"),
              std::vector<int64_t>({64790, 64792, 6316, 260, 3107, 17639, 2804, 323, 2718}));
    EXPECT_EQ(tok->encode("\n"), std::vector<int64_t>({30910, 13}));
    if (GetParam() == "chatglm2-6b-tokenizer") {
        EXPECT_FALSE(tok->token_to_id("<|user|>").has_value());  // ChatGLM2 has no role tokens
        EXPECT_EQ(tok->vocab_size(), 64794);
    } else {
        EXPECT_EQ(*tok->token_to_id("<|user|>"), 64795);
        EXPECT_EQ(tok->vocab_size(), 64798);
    }
    EXPECT_EQ(*tok->token_to_id("[gMASK]"), 64790);
    EXPECT_EQ(*tok->eos_id, 2);
    EXPECT_EQ(*tok->pad_id, 0);
    for (std::string s : {"你好", "[Round 1]\n\n问：你好\n\n答：", "def main():\n    print('hello world')\t# greeting"}) {
        EXPECT_EQ(tok->decode(tok->encode_with_prefix(s)), s);
    }
    // 👋 has no piece: byte fallback <0xF0><0x9F><0x91><0x8B> = ids 243 162 148 142
    auto wave = tok->encode("👋");
    ASSERT_GE(wave.size(), 4u);
    EXPECT_EQ(std::vector<int64_t>(wave.end() - 4, wave.end()), std::vector<int64_t>({243, 162, 148, 142}));
    EXPECT_EQ(tok->decode(wave), "👋");
}

INSTANTIATE_TEST_SUITE_P(Shared, ChatGLMTokenizer, ::testing::Values("chatglm2-6b-tokenizer", "chatglm3-6b-tokenizer"));

TEST(Tokenizers, StreamedTextEqualsTheWholeDecode) {
    const std::string text =
        "Once upon a time,  there was a girl.\n\n她叫 Lily，喜欢在公园里玩。 👋 Emoji, digits 12345 and   spaces.\n"
        "第二段：   Tunebench streams tokens one by one, and the text must come out exactly once.";
    for (const char* name : {"chatglm3-6b-tokenizer", "llama2-tokenizer", "qwen3-tokenizer", "llama3-tokenizer"}) {
        auto tok = load_tokenizer(test::models_dir() / name, nullptr);
        auto ids = tok->encode(text);
        StreamDecoder stream(*tok);
        std::string out;
        for (auto id : ids) out += stream.push(id);
        out += stream.flush();
        EXPECT_EQ(out, tok->decode(ids)) << name;
    }
}

TEST(Tokenizers, StreamDecoderHoldsBackIncompleteUtf8) {
    auto tok = load_tokenizer(test::models_dir() / "chatglm3-6b-tokenizer",
                              nullptr);  // no config: tokenizer_config says ChatGLMTokenizer
    auto ids = tok->encode("A👋B");
    StreamDecoder stream(*tok);
    std::string out;
    for (auto id : ids) {
        auto d = stream.push(id);
        EXPECT_EQ(d.find("\xEF\xBF\xBD"), std::string::npos) << "emitted a replacement char";
        out += d;
    }
    out += stream.flush();
    EXPECT_EQ(out, "A👋B");
}
